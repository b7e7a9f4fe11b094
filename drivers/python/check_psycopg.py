"""psycopg 3 through the proxy: simple and extended protocol, prepare=True, transactions, 100k rows, COPY, pipeline
mode, statement_timeout in the conninfo's options, and 20 concurrent connections per tenant over a pool of MaxOpen 5."""
import threading
import time

import psycopg
from psycopg import errors, sql

import drvcommon as c
from drvcommon import A, B, TENANTS, expect, expect_eq, expect_item

SCRATCH = "psycopg_scratch"


def connect(tenant, extra_options="", **kwargs):
    options = "-c search_path=%s %s" % (tenant.schema, extra_options)
    return psycopg.connect(host=c.HOST, port=c.PORT, dbname=c.DATABASE, user=tenant.user, password=tenant.password,
                           options=options.strip(), sslmode="disable", application_name="drv-psycopg",
                           connect_timeout=10, **kwargs)


def simple_query():
    for t in TENANTS:
        with connect(t, autocommit=True) as conn:
            # PQexec: the simple query protocol, two statements in one message.
            results = conn.pgconn.exec_(("select 1; select current_schema(), count(*) from items").encode())
            expect_eq(results.status, psycopg.pq.ExecStatus.TUPLES_OK, "simple query status")
            expect_eq((results.get_value(0, 0).decode(), int(results.get_value(0, 1).decode())),
                      (t.schema, c.ITEMS), "%s current_schema and item count" % t)
            cur = conn.execute("select * from items order by id limit 3")
            rows = cur.fetchall()
            for i, row in enumerate(rows, start=1):
                expect_item(t, row, i)


def parameterized_query():
    conns = {t: connect(t, autocommit=True) for t in TENANTS}
    try:
        for item_id in c.item_ids(20):
            for t, conn in conns.items():
                expect_item(t, conn.execute(c.ITEM_SQL_PYFORMAT, (item_id,), prepare=False).fetchone(), item_id)
    finally:
        for conn in conns.values():
            conn.close()


def prepared_statements():
    # prepare=True: a named server-side statement from the first execution; the same SQL text in both tenants,
    # interleaved, each execution its own transaction (autocommit), so backends are shared and switched.
    conns = {t: connect(t, autocommit=True) for t in TENANTS}
    try:
        for item_id in c.item_ids(30, 3):
            for t, conn in conns.items():
                expect_item(t, conn.execute(c.ITEM_SQL_PYFORMAT, (item_id,), prepare=True).fetchone(), item_id)
        # psycopg's automatic preparation (prepare_threshold, default 5) on a plain connection as well.
        with connect(A) as conn:
            for item_id in c.item_ids(12, 5):
                expect_item(A, conn.execute(c.ITEM_SQL_PYFORMAT, (item_id,)).fetchone(), item_id)
                conn.commit()
    finally:
        for conn in conns.values():
            conn.close()


def commit_and_rollback():
    with connect(A) as conn:
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(SCRATCH)))
        conn.execute(sql.SQL("create table {} (id int primary key, note text)").format(sql.Identifier(SCRATCH)))
        conn.commit()
        with conn.transaction():
            conn.execute("insert into psycopg_scratch values (1, 'committed')")
        try:
            with conn.transaction():
                conn.execute("insert into psycopg_scratch values (2, 'rolled back')")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        conn.execute("insert into psycopg_scratch values (3, 'rolled back too')")
        conn.rollback()
        rows = conn.execute("select id, note from psycopg_scratch order by id").fetchall()
        conn.commit()
        expect_eq(rows, [(1, "committed")], "rows after commit and rollbacks")


def error_then_recovery():
    with connect(B) as conn:
        conn.execute("select 1")
        try:
            conn.execute("select 1 / 0")
            raise c.CheckFailed("division by zero did not fail")
        except errors.DivisionByZero as e:
            expect_eq(e.sqlstate, "22012", "division by zero")
        try:
            conn.execute("select 1")
            raise c.CheckFailed("a statement in an aborted transaction succeeded")
        except errors.InFailedSqlTransaction as e:
            expect_eq(e.sqlstate, "25P02", "in failed transaction")
        conn.rollback()
        expect_item(B, conn.execute(c.ITEM_SQL_PYFORMAT, (7,)).fetchone(), 7)
        conn.commit()
    with connect(A, autocommit=True) as conn:
        try:
            conn.execute("select * from no_such_table")
            raise c.CheckFailed("missing table did not fail")
        except errors.UndefinedTable as e:
            expect_eq(e.sqlstate, "42P01", "undefined table")
        expect_item(A, conn.execute(c.ITEM_SQL_PYFORMAT, (8,)).fetchone(), 8)


def rows_100k():
    with connect(B) as conn:
        rows = conn.execute("select g, 'row-' || g from generate_series(1, 100000) g").fetchall()
        expect_eq(len(rows), 100000, "row count")
        expect_eq(sum(r[0] for r in rows), 100000 * 100001 // 2, "sum of ids")
        expect_eq(rows[-1], (100000, "row-100000"), "last row")
        # A server-side (named) cursor inside the transaction, fetched in chunks.
        with conn.cursor(name="drv_cursor") as cur:
            cur.itersize = 5000
            cur.execute("select g from generate_series(1, 100000) g")
            total = count = 0
            for (g,) in cur:
                total += g
                count += 1
        expect_eq((count, total), (100000, 100000 * 100001 // 2), "server-side cursor rows")
        conn.commit()


def copy_in_and_out():
    with connect(A) as conn:
        conn.execute("drop table if exists psycopg_copy")
        conn.execute("create table psycopg_copy (id int, note text)")
        with conn.cursor() as cur:
            with cur.copy("copy psycopg_copy (id, note) from stdin") as copy:
                for i in range(1, 100001):
                    copy.write_row((i, "note %d" % i))
            expect_eq(cur.rowcount, 100000, "COPY FROM rowcount")
        conn.commit()
        expect_eq(conn.execute("select count(*), sum(id) from psycopg_copy").fetchone(),
                  (100000, 100000 * 100001 // 2), "rows copied in")
        out = []
        with conn.cursor() as cur:
            with cur.copy("copy (select id, note from psycopg_copy order by id) to stdout") as copy:
                for row in copy.rows():
                    out.append(row)
        conn.commit()
        expect_eq(len(out), 100000, "rows copied out")
        expect_eq(out[99999], ("100000", "note 100000"), "last row copied out")


def pipeline_mode():
    for t in TENANTS:
        with connect(t, autocommit=True) as conn:
            conn.execute("drop table if exists psycopg_pipeline")
            conn.execute("create table psycopg_pipeline (id int, note text)")
            cursors = []
            with conn.pipeline():
                for i in range(1, 201):
                    conn.execute("insert into psycopg_pipeline values (%s, %s)", (i, "p%d" % i))
                for item_id in c.item_ids(20, 11):
                    cur = conn.cursor()
                    cur.execute(c.ITEM_SQL_PYFORMAT, (item_id,), prepare=True)
                    cursors.append((item_id, cur))
                count_cur = conn.execute("select count(*), sum(id) from psycopg_pipeline")
            for item_id, cur in cursors:
                expect_item(t, cur.fetchone(), item_id)
            expect_eq(count_cur.fetchone(), (200, 200 * 201 // 2), "%s rows inserted in the pipeline" % t)
        # A pipeline inside a transaction, with an error in the middle: the rest of the batch is aborted, the
        # connection recovers.
        with connect(t) as conn:
            try:
                with conn.pipeline():
                    conn.execute("insert into psycopg_pipeline values (1000, 'lost')")
                    conn.execute("select 1 / 0")
                    conn.execute("insert into psycopg_pipeline values (1001, 'lost')")
                raise c.CheckFailed("the pipeline's error was not raised")
            except errors.DivisionByZero:
                pass
            conn.rollback()
            expect_eq(conn.execute("select count(*) from psycopg_pipeline where id >= 1000").fetchone(), (0,),
                      "%s rows of the failed pipeline" % t)
            conn.commit()


def statement_timeout():
    with connect(A, extra_options="-c statement_timeout=%d" % c.TIMEOUT_MS, autocommit=True) as conn:
        expect_eq(conn.execute("show statement_timeout").fetchone(), ("%dms" % c.TIMEOUT_MS,),
                  "SHOW statement_timeout")
        start = time.monotonic()
        try:
            conn.execute("select pg_sleep(2)")
            raise c.CheckFailed("pg_sleep(2) ran to completion (%.2f s): statement_timeout=%d from options was lost"
                                % (time.monotonic() - start, c.TIMEOUT_MS))
        except errors.QueryCanceled as e:
            expect_eq(e.sqlstate, "57014", "query canceled")
        took = time.monotonic() - start
        expect(took < 1.5, "canceled after %.2f s, expected about %d ms" % (took, c.TIMEOUT_MS))
        expect_item(A, conn.execute(c.ITEM_SQL_PYFORMAT, (9,)).fetchone(), 9)


def pool_of_20():
    try:
        from psycopg_pool import ConnectionPool
    except ImportError:
        ConnectionPool = None
    errors_seen = []
    checked = [0]
    lock = threading.Lock()

    def work(pool, tenant, worker):
        try:
            for item_id in c.item_ids(15, worker):
                with pool.connection() as conn:
                    with conn.transaction():
                        expect_eq(conn.execute("select current_schema()").fetchone(), (tenant.schema,),
                                  "%s current_schema" % tenant)
                        expect_item(tenant, conn.execute(c.ITEM_SQL_PYFORMAT, (item_id,), prepare=True).fetchone(),
                                    item_id)
                        conn.execute("select pg_sleep(0.002)")
                        expect_item(tenant, conn.execute(c.ITEM_SQL_PYFORMAT, (item_id,)).fetchone(), item_id)
                with lock:
                    checked[0] += 1
        except Exception as e:
            with lock:
                errors_seen.append("%s worker %d: %r" % (tenant, worker, e))

    pools = {}
    try:
        for t in TENANTS:
            conninfo = psycopg.conninfo.make_conninfo(
                host=c.HOST, port=c.PORT, dbname=c.DATABASE, user=t.user, password=t.password,
                options="-c search_path=%s" % t.schema, sslmode="disable", application_name="drv-psycopg-pool")
            if ConnectionPool is None:
                raise c.CheckFailed("psycopg_pool is not installed (Debian: python3-psycopg-pool)")
            pools[t] = ConnectionPool(conninfo, min_size=c.POOL_SIZE, max_size=c.POOL_SIZE, open=True, timeout=30)
            pools[t].wait(timeout=30)
        threads = [threading.Thread(target=work, args=(pools[t], t, w))
                   for w in range(c.POOL_SIZE) for t in TENANTS]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        for p in pools.values():
            p.close()
    expect(not errors_seen, "; ".join(errors_seen[:5]))
    expect_eq(checked[0], 2 * c.POOL_SIZE * 15, "transactions checked")


def main():
    report = c.Report("psycopg %s (libpq %s)" % (psycopg.__version__, psycopg.pq.version()))
    report.check("simple_query", simple_query)
    report.check("parameterized_query", parameterized_query)
    report.check("prepared_statements", prepared_statements)
    report.check("commit_and_rollback", commit_and_rollback)
    report.check("error_then_recovery", error_then_recovery)
    report.check("rows_100k", rows_100k)
    report.check("copy_in_and_out", copy_in_and_out)
    report.check("pipeline_mode", pipeline_mode)
    report.check("statement_timeout", statement_timeout)
    report.check("pool_of_20", pool_of_20)
    report.finish()


if __name__ == "__main__":
    main()
