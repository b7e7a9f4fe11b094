package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgconn"
	"github.com/jackc/pgx/v4"
	"github.com/jackc/pgx/v4/pgxpool"
)

type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...interface{}) (pgx.Rows, error)
}

var bg = context.Background()

func pgxConnect(t tenant, extra ...string) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(bg, 15*time.Second)
	defer cancel()
	return pgx.Connect(ctx, t.dsn(extra...))
}

// pgxRow reads the one row of rows as strings; the items row is scanned by its shape (2 or 3 columns), so a result
// of the other tenant's shape cannot pass.
func pgxRow(rows pgx.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("no row")
	}
	switch n := len(rows.FieldDescriptions()); n {
	case 2:
		var id int32
		var a string
		if err := rows.Scan(&id, &a); err != nil {
			return nil, err
		}
		return []string{strconv.Itoa(int(id)), a}, rows.Err()
	case 3:
		var id int32
		var b float64
		var extra string
		if err := rows.Scan(&id, &b, &extra); err != nil {
			return nil, err
		}
		return []string{strconv.Itoa(int(id)), strconv.FormatFloat(b, 'f', -1, 64), extra}, rows.Err()
	default:
		return nil, fmt.Errorf("a row of %d columns", n)
	}
}

func checkPgxItem(t tenant, q pgxQuerier, id int, args ...interface{}) error {
	row, err := pgxRow(q.Query(bg, itemSQL, append(args, id)...))
	if err != nil {
		return fmt.Errorf("%s item %d: %w", t, id, err)
	}
	return t.checkItem(row, id)
}

func pgxScalar(q pgxQuerier, query string, args ...interface{}) (string, error) {
	var s string
	rows, err := q.Query(bg, query, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	if !rows.Next() {
		return "", fmt.Errorf("no row: %v", rows.Err())
	}
	if err := rows.Scan(&s); err != nil {
		return "", err
	}
	return s, rows.Err()
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return "(not a server error: " + fmt.Sprint(err) + ")"
}

func expectPgCode(err error, code, what string) error {
	if err == nil {
		return fmt.Errorf("%s: no error, expected SQLSTATE %s", what, code)
	}
	return expectEq(pgCode(err), code, what+" SQLSTATE")
}

func pgxChecks() []check {
	return []check{
		{"simple_query", func() error {
			for _, t := range tenants {
				conn, err := pgxConnect(t)
				if err != nil {
					return err
				}
				defer conn.Close(bg)
				s, err := pgxScalar(conn, "select current_schema() || ',' || count(*) from items", pgx.QuerySimpleProtocol(true))
				if err != nil {
					return err
				}
				if err := expectEq(s, fmt.Sprintf("%s,%d", t.schema, items), t.String()+" simple protocol"); err != nil {
					return err
				}
				if err := checkPgxItem(t, conn, 3, pgx.QuerySimpleProtocol(true)); err != nil {
					return err
				}
			}
			return nil
		}},
		{"parameterized_query", func() error {
			// pgx v4's default: every query goes through its statement cache (named prepared statements).
			return pgxEachTenant(func(t tenant, conn *pgx.Conn, id int) error { return checkPgxItem(t, conn, id) },
				nil)
		}},
		{"parameterized_query_describe_cache", func() error {
			return pgxEachTenant(func(t tenant, conn *pgx.Conn, id int) error { return checkPgxItem(t, conn, id) },
				[]string{"statement_cache_mode", "describe"})
		}},
		{"prepared_statements", func() error {
			return pgxEachTenant(func(t tenant, conn *pgx.Conn, id int) error {
				if _, err := conn.Prepare(bg, "item_by_id", itemSQL); err != nil {
					return err
				}
				row, err := pgxRow(conn.Query(bg, "item_by_id", id))
				if err != nil {
					return fmt.Errorf("%s item %d: %w", t, id, err)
				}
				return t.checkItem(row, id)
			}, nil)
		}},
		{"commit_and_rollback", func() error {
			conn, err := pgxConnect(tenantA)
			if err != nil {
				return err
			}
			defer conn.Close(bg)
			if _, err := conn.Exec(bg, "drop table if exists pgx_scratch; create table pgx_scratch (id int, note text)"); err != nil {
				return err
			}
			tx, err := conn.Begin(bg)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(bg, "insert into pgx_scratch values ($1, $2)", 1, "committed"); err != nil {
				return err
			}
			if err := tx.Commit(bg); err != nil {
				return err
			}
			tx, err = conn.Begin(bg)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(bg, "insert into pgx_scratch values ($1, $2)", 2, "rolled back"); err != nil {
				return err
			}
			if err := tx.Rollback(bg); err != nil {
				return err
			}
			s, err := pgxScalar(conn, "select string_agg(id || ':' || note, ',' order by id) from pgx_scratch")
			if err != nil {
				return err
			}
			return expectEq(s, "1:committed", "rows after commit and rollback")
		}},
		{"error_then_recovery", func() error {
			conn, err := pgxConnect(tenantB)
			if err != nil {
				return err
			}
			defer conn.Close(bg)
			tx, err := conn.Begin(bg)
			if err != nil {
				return err
			}
			_, err = tx.Exec(bg, "select 1 / $1::int", 0)
			if e := expectPgCode(err, "22012", "division by zero"); e != nil {
				return e
			}
			_, err = tx.Exec(bg, "select 1")
			if e := expectPgCode(err, "25P02", "statement in a failed transaction"); e != nil {
				return e
			}
			if err := tx.Rollback(bg); err != nil {
				return err
			}
			if err := checkPgxItem(tenantB, conn, 7); err != nil {
				return err
			}
			_, err = conn.Exec(bg, "select * from no_such_table")
			if e := expectPgCode(err, "42P01", "undefined table"); e != nil {
				return e
			}
			return checkPgxItem(tenantB, conn, 8)
		}},
		{"rows_100k", func() error {
			conn, err := pgxConnect(tenantA)
			if err != nil {
				return err
			}
			defer conn.Close(bg)
			rows, err := conn.Query(bg, "select g, 'row-' || g from generate_series(1, $1::int) g", 100000)
			if err != nil {
				return err
			}
			defer rows.Close()
			var count, sum int64
			var last string
			for rows.Next() {
				var g int32
				if err := rows.Scan(&g, &last); err != nil {
					return err
				}
				count++
				sum += int64(g)
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return expectEq([]interface{}{count, sum, last}, []interface{}{100000, int64(100000) * 100001 / 2, "row-100000"}, "rows")
		}},
		{"copy_in_and_out", func() error {
			conn, err := pgxConnect(tenantB)
			if err != nil {
				return err
			}
			defer conn.Close(bg)
			if _, err := conn.Exec(bg, "drop table if exists pgx_copy; create table pgx_copy (id int, note text)"); err != nil {
				return err
			}
			src := make([][]interface{}, 100000)
			for i := range src {
				src[i] = []interface{}{int32(i + 1), fmt.Sprintf("note %d", i+1)}
			}
			n, err := conn.CopyFrom(bg, pgx.Identifier{"pgx_copy"}, []string{"id", "note"}, pgx.CopyFromRows(src))
			if err != nil {
				return err
			}
			if err := expectEq(n, 100000, "CopyFrom count"); err != nil {
				return err
			}
			s, err := pgxScalar(conn, "select count(*) || ',' || sum(id) from pgx_copy")
			if err != nil {
				return err
			}
			if err := expectEq(s, "100000,5000050000", "rows copied in"); err != nil {
				return err
			}
			var out bytes.Buffer
			if _, err := conn.PgConn().CopyTo(bg, &out, "copy (select id, note from pgx_copy order by id) to stdout"); err != nil {
				return err
			}
			lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
			return expectEq([]interface{}{len(lines), lines[len(lines)-1]}, []interface{}{100000, "100000\tnote 100000"}, "rows copied out")
		}},
		{"batch", func() error {
			for _, t := range tenants {
				conn, err := pgxConnect(t)
				if err != nil {
					return err
				}
				defer conn.Close(bg)
				if _, err := conn.Exec(bg, "drop table if exists pgx_batch; create table pgx_batch (id int, note text)"); err != nil {
					return err
				}
				// One round trip: the inserts and the item queries go out together, with one Sync.
				b := &pgx.Batch{}
				for i := 1; i <= 500; i++ {
					b.Queue("insert into pgx_batch values ($1, $2)", i, fmt.Sprintf("b%d", i))
				}
				ids := itemIDs(20, 11)
				for _, id := range ids {
					b.Queue(itemSQL, id)
				}
				b.Queue("select count(*) || ',' || sum(id) from pgx_batch")
				br := conn.SendBatch(bg, b)
				for i := 1; i <= 500; i++ {
					if _, err := br.Exec(); err != nil {
						br.Close()
						return err
					}
				}
				for _, id := range ids {
					row, err := pgxRow(br.Query())
					if err != nil {
						br.Close()
						return fmt.Errorf("%s batch item %d: %w", t, id, err)
					}
					if err := t.checkItem(row, id); err != nil {
						br.Close()
						return err
					}
				}
				var s string
				if err := br.QueryRow().Scan(&s); err != nil {
					br.Close()
					return err
				}
				if err := br.Close(); err != nil {
					return err
				}
				if err := expectEq(s, "500,125250", t.String()+" rows of the batch"); err != nil {
					return err
				}
			}
			return nil
		}},
		{"statement_timeout", func() error {
			// pgx sends DSN keys it does not know as startup parameters (RuntimeParams).
			conn, err := pgxConnect(tenantA, "statement_timeout", fmt.Sprint(timeoutMs))
			if err != nil {
				return err
			}
			defer conn.Close(bg)
			s, err := pgxScalar(conn, "show statement_timeout")
			if err != nil {
				return err
			}
			if err := expectEq(s, fmt.Sprintf("%dms", timeoutMs), "SHOW statement_timeout"); err != nil {
				return err
			}
			start := time.Now()
			_, err = conn.Exec(bg, "select pg_sleep(2)")
			took := time.Since(start)
			if err == nil {
				return fmt.Errorf("pg_sleep(2) ran to completion (%v): statement_timeout=%d in the DSN was lost", took, timeoutMs)
			}
			if e := expectPgCode(err, "57014", "query canceled"); e != nil {
				return e
			}
			if took > 1500*time.Millisecond {
				return fmt.Errorf("canceled after %v, expected about %d ms", took, timeoutMs)
			}
			return checkPgxItem(tenantA, conn, 9)
		}},
		{"pool_of_20", func() error {
			var wg sync.WaitGroup
			var mu sync.Mutex
			var errs []string
			checked := 0
			for _, t := range tenants {
				cfg, err := pgxpool.ParseConfig(t.dsn("pool_max_conns", fmt.Sprint(poolSize), "pool_min_conns", fmt.Sprint(poolSize)))
				if err != nil {
					return err
				}
				pool, err := pgxpool.ConnectConfig(bg, cfg)
				if err != nil {
					return err
				}
				defer pool.Close()
				for w := 0; w < poolSize; w++ {
					wg.Add(1)
					go func(t tenant, w int) {
						defer wg.Done()
						err := func() error {
							for _, id := range itemIDs(15, w) {
								err := pool.BeginFunc(bg, func(tx pgx.Tx) error {
									s, err := pgxScalar(tx, "select current_schema()")
									if err != nil {
										return err
									}
									if err := expectEq(s, t.schema, t.String()+" current_schema"); err != nil {
										return err
									}
									if err := checkPgxItem(t, tx, id); err != nil {
										return err
									}
									_, err = tx.Exec(bg, "select pg_sleep(0.002)")
									return err
								})
								if err != nil {
									return err
								}
								if err := checkPgxItem(t, pool, id); err != nil {
									return err
								}
								mu.Lock()
								checked++
								mu.Unlock()
							}
							return nil
						}()
						if err != nil {
							mu.Lock()
							errs = append(errs, fmt.Sprintf("%s worker %d: %v", t, w, err))
							mu.Unlock()
						}
					}(t, w)
				}
			}
			wg.Wait()
			if len(errs) > 0 {
				if len(errs) > 5 {
					errs = errs[:5]
				}
				return errors.New(strings.Join(errs, "; "))
			}
			return expectEq(checked, 2*poolSize*15, "transactions checked")
		}},
	}
}

// pgxEachTenant opens one connection per tenant and runs fn on both, interleaved, for 30 item ids.
func pgxEachTenant(fn func(t tenant, conn *pgx.Conn, id int) error, extra []string) error {
	conns := map[tenant]*pgx.Conn{}
	for _, t := range tenants {
		conn, err := pgxConnect(t, extra...)
		if err != nil {
			return err
		}
		defer conn.Close(bg)
		conns[t] = conn
	}
	for _, id := range itemIDs(30, 3) {
		for _, t := range tenants {
			if err := fn(t, conns[t], id); err != nil {
				return err
			}
		}
	}
	return nil
}
