"""psycopg2 through the proxy. psycopg2 interpolates parameters on the client and sends every statement with the
simple query protocol; it has no prepared statements of its own. Tested: queries, transactions, a named
(server-side) cursor over 100k rows, COPY with copy_expert, execute_batch/execute_values, statement_timeout in
options, and a ThreadedConnectionPool of 20 per tenant over MaxOpen 5."""
import io
import threading
import time

import psycopg2
import psycopg2.errors
import psycopg2.extras
import psycopg2.pool

import drvcommon as c
from drvcommon import A, B, TENANTS, expect, expect_eq, expect_item


def dsn(tenant, extra_options=""):
    options = ("-c search_path=%s %s" % (tenant.schema, extra_options)).strip()
    return psycopg2.extensions.make_dsn(host=c.HOST, port=c.PORT, dbname=c.DATABASE, user=tenant.user,
                                        password=tenant.password, options=options, sslmode="disable",
                                        application_name="drv-psycopg2", connect_timeout=10)


def connect(tenant, extra_options="", autocommit=False):
    conn = psycopg2.connect(dsn(tenant, extra_options))
    conn.autocommit = autocommit
    return conn


def simple_query():
    for t in TENANTS:
        conn = connect(t, autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("select 1; select current_schema(), count(*) from items")
                expect_eq(cur.fetchone(), (t.schema, c.ITEMS), "%s current_schema and item count" % t)
                cur.execute("select * from items order by id limit 3")
                for i, r in enumerate(cur.fetchall(), start=1):
                    expect_item(t, r, i)
        finally:
            conn.close()


def parameterized_query():
    conns = {t: connect(t, autocommit=True) for t in TENANTS}
    try:
        for item_id in c.item_ids(20):
            for t, conn in conns.items():
                with conn.cursor() as cur:
                    cur.execute(c.ITEM_SQL_PYFORMAT, (item_id,))
                    expect_item(t, cur.fetchone(), item_id)
    finally:
        for conn in conns.values():
            conn.close()


def commit_and_rollback():
    conn = connect(A)
    try:
        with conn.cursor() as cur:
            cur.execute("drop table if exists psycopg2_scratch; create table psycopg2_scratch (id int, note text)")
            conn.commit()
            with conn:  # commits on success
                with conn.cursor() as cur2:
                    cur2.execute("insert into psycopg2_scratch values (%s, %s)", (1, "committed"))
            try:
                with conn:  # rolls back on an exception
                    with conn.cursor() as cur2:
                        cur2.execute("insert into psycopg2_scratch values (%s, %s)", (2, "rolled back"))
                        raise RuntimeError("roll back")
            except RuntimeError:
                pass
            cur.execute("insert into psycopg2_scratch values (%s, %s)", (3, "rolled back too"))
            conn.rollback()
            cur.execute("select id, note from psycopg2_scratch order by id")
            expect_eq(cur.fetchall(), [(1, "committed")], "rows after commit and rollbacks")
            conn.commit()
    finally:
        conn.close()


def error_then_recovery():
    conn = connect(B)
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            try:
                cur.execute("select 1 / 0")
                raise c.CheckFailed("division by zero did not fail")
            except psycopg2.errors.DivisionByZero as e:
                expect_eq(e.pgcode, "22012", "division by zero")
            try:
                cur.execute("select 1")
                raise c.CheckFailed("a statement in an aborted transaction succeeded")
            except psycopg2.errors.InFailedSqlTransaction as e:
                expect_eq(e.pgcode, "25P02", "in failed transaction")
            conn.rollback()
            cur.execute(c.ITEM_SQL_PYFORMAT, (7,))
            expect_item(B, cur.fetchone(), 7)
            conn.commit()
    finally:
        conn.close()


def rows_100k():
    conn = connect(A)
    try:
        with conn.cursor() as cur:
            cur.execute("select g, 'row-' || g from generate_series(1, 100000) g")
            rows = cur.fetchall()
            expect_eq(len(rows), 100000, "row count")
            expect_eq(sum(r[0] for r in rows), 100000 * 100001 // 2, "sum of ids")
            expect_eq(rows[-1], (100000, "row-100000"), "last row")
        # A named cursor: DECLARE ... CURSOR and FETCH inside the transaction.
        with conn.cursor(name="drv_named") as cur:
            cur.itersize = 5000
            cur.execute("select g from generate_series(1, 100000) g")
            count = total = 0
            for (g,) in cur:
                count += 1
                total += g
        expect_eq((count, total), (100000, 100000 * 100001 // 2), "named cursor rows")
        conn.commit()
    finally:
        conn.close()


def copy_in_and_out():
    conn = connect(B)
    try:
        with conn.cursor() as cur:
            cur.execute("drop table if exists psycopg2_copy; create table psycopg2_copy (id int, note text)")
            data = io.StringIO("".join("%d\tnote %d\n" % (i, i) for i in range(1, 100001)))
            cur.copy_expert("copy psycopg2_copy (id, note) from stdin", data)
            expect_eq(cur.rowcount, 100000, "COPY FROM rowcount")
            conn.commit()
            cur.execute("select count(*), sum(id) from psycopg2_copy")
            expect_eq(cur.fetchone(), (100000, 100000 * 100001 // 2), "rows copied in")
            out = io.StringIO()
            cur.copy_expert("copy (select id, note from psycopg2_copy order by id) to stdout with (format csv)", out)
            lines = out.getvalue().splitlines()
            expect_eq((len(lines), lines[-1]), (100000, "100000,note 100000"), "rows copied out")
            conn.commit()
    finally:
        conn.close()


def batches():
    for t in TENANTS:
        conn = connect(t)
        try:
            with conn.cursor() as cur:
                cur.execute("drop table if exists psycopg2_batch; create table psycopg2_batch (id int, note text)")
                psycopg2.extras.execute_batch(cur, "insert into psycopg2_batch values (%s, %s)",
                                              [(i, "b%d" % i) for i in range(1, 1001)], page_size=100)
                psycopg2.extras.execute_values(cur, "insert into psycopg2_batch values %s",
                                               [(i, "v%d" % i) for i in range(1001, 3001)], page_size=500)
                conn.commit()
                cur.execute("select count(*), sum(id) from psycopg2_batch")
                expect_eq(cur.fetchone(), (3000, 3000 * 3001 // 2), "%s rows inserted in batches" % t)
                cur.execute(c.ITEM_SQL_PYFORMAT, (4,))
                expect_item(t, cur.fetchone(), 4)
                conn.commit()
        finally:
            conn.close()


def statement_timeout():
    conn = connect(A, extra_options="-c statement_timeout=%d" % c.TIMEOUT_MS, autocommit=True)
    try:
        with conn.cursor() as cur:
            cur.execute("show statement_timeout")
            expect_eq(cur.fetchone(), ("%dms" % c.TIMEOUT_MS,), "SHOW statement_timeout")
            start = time.monotonic()
            try:
                cur.execute("select pg_sleep(2)")
                raise c.CheckFailed("pg_sleep(2) ran to completion (%.2f s): statement_timeout=%d from options was "
                                    "lost" % (time.monotonic() - start, c.TIMEOUT_MS))
            except psycopg2.errors.QueryCanceled as e:
                expect_eq(e.pgcode, "57014", "query canceled")
            took = time.monotonic() - start
            expect(took < 1.5, "canceled after %.2f s, expected about %d ms" % (took, c.TIMEOUT_MS))
            cur.execute(c.ITEM_SQL_PYFORMAT, (9,))
            expect_item(A, cur.fetchone(), 9)
    finally:
        conn.close()


def pool_of_20():
    pools = {t: psycopg2.pool.ThreadedConnectionPool(c.POOL_SIZE, c.POOL_SIZE, dsn(t)) for t in TENANTS}
    errors_seen = []
    checked = [0]
    lock = threading.Lock()

    def work(t, worker):
        try:
            for item_id in c.item_ids(15, worker):
                conn = pools[t].getconn()
                try:
                    with conn.cursor() as cur:
                        cur.execute("select current_schema()")
                        expect_eq(cur.fetchone(), (t.schema,), "%s current_schema" % t)
                        cur.execute(c.ITEM_SQL_PYFORMAT, (item_id,))
                        expect_item(t, cur.fetchone(), item_id)
                        cur.execute("select pg_sleep(0.002)")
                        cur.execute(c.ITEM_SQL_PYFORMAT, (item_id,))
                        expect_item(t, cur.fetchone(), item_id)
                    conn.commit()
                finally:
                    pools[t].putconn(conn)
                with lock:
                    checked[0] += 1
        except Exception as e:
            with lock:
                errors_seen.append("%s worker %d: %r" % (t, worker, e))

    try:
        threads = [threading.Thread(target=work, args=(t, w)) for w in range(c.POOL_SIZE) for t in TENANTS]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    finally:
        for p in pools.values():
            p.closeall()
    expect(not errors_seen, "; ".join(errors_seen[:5]))
    expect_eq(checked[0], 2 * c.POOL_SIZE * 15, "transactions checked")


def main():
    report = c.Report("psycopg2 %s" % psycopg2.__version__.split()[0])
    report.check("simple_query", simple_query)
    report.check("parameterized_query", parameterized_query)
    report.check("commit_and_rollback", commit_and_rollback)
    report.check("error_then_recovery", error_then_recovery)
    report.check("rows_100k", rows_100k)
    report.check("copy_in_and_out", copy_in_and_out)
    report.check("batches", batches)
    report.check("statement_timeout", statement_timeout)
    report.check("pool_of_20", pool_of_20)
    report.finish()


if __name__ == "__main__":
    main()
