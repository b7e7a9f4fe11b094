package main

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/lib/pq"
)

// Mattermost's own DSN adds binary_parameters=yes: lib/pq then sends Parse/Bind/Execute/Sync in one go. Without it
// (lib/pq's default), a query with arguments is Parse("")/Describe/Sync, then Bind("")/Execute/Sync.
func openLibpq(t tenant, extra ...string) (*sql.DB, error) {
	db, err := sql.Open("postgres", t.dsn(extra...))
	if err != nil {
		return nil, err
	}
	return db, db.Ping()
}

func scanStrings(rows *sql.Rows) ([]string, error) {
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.NullString, len(cols))
	ptrs := make([]interface{}, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	out := make([]string, len(cols))
	for i, v := range vals {
		out[i] = v.String
	}
	return out, nil
}

type sqlQuerier interface {
	Query(query string, args ...interface{}) (*sql.Rows, error)
}

// libpqItem runs the items query and returns its one row as strings.
func libpqItem(q sqlQuerier, query string, args ...interface{}) ([]string, error) {
	rows, err := q.Query(query, args...)
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
	return scanStrings(rows)
}

func checkLibpqItem(t tenant, q sqlQuerier, id int) error {
	row, err := libpqItem(q, itemSQL, id)
	if err != nil {
		return fmt.Errorf("%s item %d: %w", t, id, err)
	}
	return t.checkItem(row, id)
}

func pqCode(err error) string {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) {
		return string(pqErr.Code)
	}
	return "(not a server error: " + fmt.Sprint(err) + ")"
}

func expectPqCode(err error, code, what string) error {
	if err == nil {
		return fmt.Errorf("%s: no error, expected SQLSTATE %s", what, code)
	}
	return expectEq(pqCode(err), code, what+" SQLSTATE")
}

func libpqChecks() []check {
	return []check{
		{"simple_query", func() error {
			for _, t := range tenants {
				db, err := openLibpq(t, "binary_parameters", "yes")
				if err != nil {
					return err
				}
				defer db.Close()
				// No arguments: the simple query protocol; two statements, two result sets.
				rows, err := db.Query("select 1; select current_schema(), count(*) from items")
				if err != nil {
					return err
				}
				defer rows.Close()
				var got []string
				for {
					for rows.Next() {
						r, err := scanStrings(rows)
						if err != nil {
							return err
						}
						got = append(got, strings.Join(r, ","))
					}
					if !rows.NextResultSet() {
						break
					}
				}
				if err := rows.Err(); err != nil {
					return err
				}
				if err := expectEq(got[len(got)-1], fmt.Sprintf("%s,%d", t.schema, items), t.String()+" multi-statement"); err != nil {
					return err
				}
			}
			return nil
		}},
		{"parameterized_query_binary_parameters", func() error {
			return libpqParameterized("binary_parameters", "yes")
		}},
		{"parameterized_query_default", func() error { return libpqParameterized() }},
		{"prepared_statements", func() error {
			dbs := map[tenant]*sql.DB{}
			stmts := map[tenant]*sql.Stmt{}
			for _, t := range tenants {
				db, err := openLibpq(t, "binary_parameters", "yes")
				if err != nil {
					return err
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				st, err := db.Prepare(itemSQL)
				if err != nil {
					return err
				}
				defer st.Close()
				dbs[t], stmts[t] = db, st
			}
			for _, id := range itemIDs(30, 3) {
				for _, t := range tenants {
					rows, err := stmts[t].Query(id)
					if err != nil {
						return fmt.Errorf("%s prepared item %d: %w", t, id, err)
					}
					rows.Next()
					r, err := scanStrings(rows)
					rows.Close()
					if err != nil {
						return err
					}
					if err := t.checkItem(r, id); err != nil {
						return err
					}
				}
			}
			return nil
		}},
		{"commit_and_rollback", func() error {
			db, err := openLibpq(tenantA, "binary_parameters", "yes")
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.Exec("drop table if exists libpq_scratch; create table libpq_scratch (id int, note text)"); err != nil {
				return err
			}
			tx, _ := db.Begin()
			if _, err := tx.Exec("insert into libpq_scratch values ($1, $2)", 1, "committed"); err != nil {
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			tx, _ = db.Begin()
			if _, err := tx.Exec("insert into libpq_scratch values ($1, $2)", 2, "rolled back"); err != nil {
				return err
			}
			if err := tx.Rollback(); err != nil {
				return err
			}
			row, err := libpqItem(db, "select string_agg(id || ':' || note, ',' order by id) from libpq_scratch")
			if err != nil {
				return err
			}
			return expectEq(row, []string{"1:committed"}, "rows after commit and rollback")
		}},
		{"error_then_recovery", func() error {
			db, err := openLibpq(tenantB, "binary_parameters", "yes")
			if err != nil {
				return err
			}
			defer db.Close()
			tx, err := db.Begin()
			if err != nil {
				return err
			}
			_, err = tx.Exec("select 1 / $1::int", 0)
			if e := expectPqCode(err, "22012", "division by zero"); e != nil {
				return e
			}
			_, err = tx.Exec("select 1")
			if e := expectPqCode(err, "25P02", "statement in a failed transaction"); e != nil {
				return e
			}
			if err := tx.Rollback(); err != nil {
				return err
			}
			if err := checkLibpqItem(tenantB, db, 7); err != nil {
				return err
			}
			_, err = db.Exec("select * from no_such_table")
			if e := expectPqCode(err, "42P01", "undefined table"); e != nil {
				return e
			}
			return checkLibpqItem(tenantB, db, 8)
		}},
		{"rows_100k", func() error {
			db, err := openLibpq(tenantA, "binary_parameters", "yes")
			if err != nil {
				return err
			}
			defer db.Close()
			rows, err := db.Query("select g, 'row-' || g from generate_series(1, $1::int) g", 100000)
			if err != nil {
				return err
			}
			defer rows.Close()
			var count, sum int64
			var last string
			for rows.Next() {
				var g int64
				if err := rows.Scan(&g, &last); err != nil {
					return err
				}
				count++
				sum += g
			}
			if err := rows.Err(); err != nil {
				return err
			}
			return expectEq([]interface{}{count, sum, last}, []interface{}{100000, int64(100000) * 100001 / 2, "row-100000"}, "rows")
		}},
		{"copy_in", func() error {
			db, err := openLibpq(tenantB, "binary_parameters", "yes")
			if err != nil {
				return err
			}
			defer db.Close()
			if _, err := db.Exec("drop table if exists libpq_copy; create table libpq_copy (id int, note text)"); err != nil {
				return err
			}
			tx, err := db.Begin()
			if err != nil {
				return err
			}
			st, err := tx.Prepare(pq.CopyIn("libpq_copy", "id", "note"))
			if err != nil {
				return err
			}
			for i := 1; i <= 100000; i++ {
				if _, err := st.Exec(i, fmt.Sprintf("note %d", i)); err != nil {
					return err
				}
			}
			if _, err := st.Exec(); err != nil {
				return err
			}
			if err := st.Close(); err != nil {
				return err
			}
			if err := tx.Commit(); err != nil {
				return err
			}
			row, err := libpqItem(db, "select count(*), sum(id) from libpq_copy")
			if err != nil {
				return err
			}
			return expectEq(row, []string{"100000", "5000050000"}, "rows copied in")
		}},
		{"multi_statement_batch", func() error {
			// lib/pq has no batch API; a multi-statement Exec (simple protocol) is its batch.
			for _, t := range tenants {
				db, err := openLibpq(t, "binary_parameters", "yes")
				if err != nil {
					return err
				}
				defer db.Close()
				var b strings.Builder
				b.WriteString("drop table if exists libpq_batch; create table libpq_batch (id int, note text);")
				for i := 1; i <= 500; i++ {
					fmt.Fprintf(&b, "insert into libpq_batch values (%d, 'b%d');", i, i)
				}
				if _, err := db.Exec(b.String()); err != nil {
					return err
				}
				row, err := libpqItem(db, "select count(*), sum(id) from libpq_batch")
				if err != nil {
					return err
				}
				if err := expectEq(row, []string{"500", "125250"}, t.String()+" rows of the batch"); err != nil {
					return err
				}
				if err := checkLibpqItem(t, db, 4); err != nil {
					return err
				}
			}
			return nil
		}},
		{"statement_timeout", func() error {
			// lib/pq sends DSN keys it does not know as startup parameters.
			db, err := openLibpq(tenantA, "binary_parameters", "yes", "statement_timeout", fmt.Sprint(timeoutMs))
			if err != nil {
				return err
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			row, err := libpqItem(db, "show statement_timeout")
			if err != nil {
				return err
			}
			if err := expectEq(row, []string{fmt.Sprintf("%dms", timeoutMs)}, "SHOW statement_timeout"); err != nil {
				return err
			}
			start := time.Now()
			_, err = db.Exec("select pg_sleep(2)")
			took := time.Since(start)
			if err == nil {
				return fmt.Errorf("pg_sleep(2) ran to completion (%v): statement_timeout=%d in the DSN was lost", took, timeoutMs)
			}
			if e := expectPqCode(err, "57014", "query canceled"); e != nil {
				return e
			}
			if took > 1500*time.Millisecond {
				return fmt.Errorf("canceled after %v, expected about %d ms", took, timeoutMs)
			}
			return checkLibpqItem(tenantA, db, 9)
		}},
		{"pool_of_20", func() error {
			var wg sync.WaitGroup
			var mu sync.Mutex
			var errs []string
			checked := 0
			for _, t := range tenants {
				db, err := openLibpq(t, "binary_parameters", "yes")
				if err != nil {
					return err
				}
				defer db.Close()
				db.SetMaxOpenConns(poolSize)
				db.SetMaxIdleConns(poolSize)
				stmt, err := db.Prepare(itemSQL)
				if err != nil {
					return err
				}
				defer stmt.Close()
				for w := 0; w < poolSize; w++ {
					wg.Add(1)
					go func(t tenant, w int) {
						defer wg.Done()
						err := func() error {
							for _, id := range itemIDs(15, w) {
								tx, err := db.Begin()
								if err != nil {
									return err
								}
								row, err := libpqItem(tx, "select current_schema()")
								if err != nil {
									tx.Rollback()
									return err
								}
								if err := expectEq(row, []string{t.schema}, t.String()+" current_schema"); err != nil {
									tx.Rollback()
									return err
								}
								if err := checkLibpqItem(t, tx, id); err != nil {
									tx.Rollback()
									return err
								}
								if _, err := tx.Exec("select pg_sleep(0.002)"); err != nil {
									tx.Rollback()
									return err
								}
								if err := tx.Commit(); err != nil {
									return err
								}
								rows, err := stmt.Query(id)
								if err != nil {
									return err
								}
								rows.Next()
								r, err := scanStrings(rows)
								rows.Close()
								if err != nil {
									return err
								}
								if err := t.checkItem(r, id); err != nil {
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

func libpqParameterized(extra ...string) error {
	dbs := map[tenant]*sql.DB{}
	for _, t := range tenants {
		db, err := openLibpq(t, extra...)
		if err != nil {
			return err
		}
		defer db.Close()
		dbs[t] = db
	}
	for _, id := range itemIDs(20, 0) {
		for _, t := range tenants {
			if err := checkLibpqItem(t, dbs[t], id); err != nil {
				return err
			}
		}
	}
	return nil
}
