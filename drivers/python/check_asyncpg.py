"""asyncpg through the proxy. asyncpg prepares a named statement for every query with arguments (its statement
cache), sends search_path and statement_timeout as startup parameters (server_settings), resets the session when a
pool connection is released (RESET ALL, among others), and has executemany and binary COPY."""
import asyncio
import io
import time

import asyncpg

import drvcommon as c
from drvcommon import A, B, TENANTS, expect, expect_eq, expect_item


def connect(tenant, **settings):
    server_settings = {"search_path": tenant.schema, "application_name": "drv-asyncpg"}
    server_settings.update(settings)
    return asyncpg.connect(host=c.HOST, port=c.PORT, database=c.DATABASE, user=tenant.user,
                           password=tenant.password, ssl=False, server_settings=server_settings, timeout=10)


def row(record):
    return tuple(record) if record is not None else None


async def simple_query():
    for t in TENANTS:
        conn = await connect(t)
        try:
            # execute() without arguments: the simple query protocol, several statements at once.
            status = await conn.execute("select 1; select current_schema()")
            expect_eq(status, "SELECT 1", "simple query status")
            expect_eq(await conn.fetchval("select current_schema()"), t.schema, "%s current_schema" % t)
            for i, r in enumerate(await conn.fetch("select * from items order by id limit 3"), start=1):
                expect_item(t, row(r), i)
        finally:
            await conn.close()


async def parameterized_query():
    conns = {t: await connect(t) for t in TENANTS}
    try:
        for item_id in c.item_ids(20):
            for t, conn in conns.items():
                expect_item(t, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, item_id)), item_id)
    finally:
        for conn in conns.values():
            await conn.close()


async def prepared_statements():
    conns = {t: await connect(t) for t in TENANTS}
    try:
        stmts = {t: await conn.prepare(c.ITEM_SQL_DOLLAR) for t, conn in conns.items()}
        expect_eq(len(stmts[A].get_attributes()), 2, "tenant A statement's columns")
        expect_eq(len(stmts[B].get_attributes()), 3, "tenant B statement's columns")
        for item_id in c.item_ids(30, 3):
            for t, stmt in stmts.items():
                expect_item(t, row(await stmt.fetchrow(item_id)), item_id)
        # A prepared statement used inside a transaction, then after it.
        async with conns[B].transaction():
            expect_item(B, row(await stmts[B].fetchrow(5)), 5)
        expect_item(B, row(await stmts[B].fetchrow(6)), 6)
    finally:
        for conn in conns.values():
            await conn.close()


async def commit_and_rollback():
    conn = await connect(A)
    try:
        await conn.execute("drop table if exists asyncpg_scratch; create table asyncpg_scratch (id int, note text)")
        async with conn.transaction():
            await conn.execute("insert into asyncpg_scratch values ($1, $2)", 1, "committed")
        try:
            async with conn.transaction():
                await conn.execute("insert into asyncpg_scratch values ($1, $2)", 2, "rolled back")
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        tr = conn.transaction()
        await tr.start()
        await conn.execute("insert into asyncpg_scratch values ($1, $2)", 3, "rolled back too")
        await tr.rollback()
        rows = [row(r) for r in await conn.fetch("select id, note from asyncpg_scratch order by id")]
        expect_eq(rows, [(1, "committed")], "rows after commit and rollbacks")
    finally:
        await conn.close()


async def error_then_recovery():
    conn = await connect(B)
    try:
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.fetchval("select 1 / $1::int", 0)
            raise c.CheckFailed("division by zero did not fail")
        except asyncpg.DivisionByZeroError as e:
            expect_eq(e.sqlstate, "22012", "division by zero")
        try:
            await conn.fetchval("select 1")
            raise c.CheckFailed("a statement in an aborted transaction succeeded")
        except asyncpg.InFailedSQLTransactionError as e:
            expect_eq(e.sqlstate, "25P02", "in failed transaction")
        await tr.rollback()
        expect_item(B, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, 7)), 7)
        try:
            await conn.fetch("select * from no_such_table where id = $1", 1)
            raise c.CheckFailed("missing table did not fail")
        except asyncpg.UndefinedTableError as e:
            expect_eq(e.sqlstate, "42P01", "undefined table")
        expect_item(B, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, 8)), 8)
    finally:
        await conn.close()


async def rows_100k():
    conn = await connect(A)
    try:
        rows = await conn.fetch("select g, 'row-' || g from generate_series(1, $1::int) g", 100000)
        expect_eq(len(rows), 100000, "row count")
        expect_eq(sum(r[0] for r in rows), 100000 * 100001 // 2, "sum of ids")
        expect_eq(row(rows[-1]), (100000, "row-100000"), "last row")
        count = total = 0
        async with conn.transaction():
            async for r in conn.cursor("select g from generate_series(1, 100000) g", prefetch=5000):
                count += 1
                total += r[0]
        expect_eq((count, total), (100000, 100000 * 100001 // 2), "cursor rows")
    finally:
        await conn.close()


async def executemany_batch():
    for t in TENANTS:
        conn = await connect(t)
        try:
            await conn.execute("drop table if exists asyncpg_many; create table asyncpg_many (id int, note text)")
            await conn.executemany("insert into asyncpg_many values ($1, $2)",
                                   [(i, "m%d" % i) for i in range(1, 5001)])
            expect_eq(row(await conn.fetchrow("select count(*), sum(id) from asyncpg_many")),
                      (5000, 5000 * 5001 // 2), "%s rows inserted by executemany" % t)
            # executemany is atomic: a failing row inserts nothing.
            try:
                await conn.executemany("insert into asyncpg_many values ($1, 1 / $2::int)",
                                       [(10001, 1), (10002, 0), (10003, 1)])
                raise c.CheckFailed("executemany with a failing row succeeded")
            except asyncpg.DivisionByZeroError:
                pass
            expect_eq(await conn.fetchval("select count(*) from asyncpg_many where id > 10000"), 0,
                      "%s rows of the failed executemany" % t)
            expect_item(t, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, 3)), 3)
        finally:
            await conn.close()


async def copy_in_and_out():
    conn = await connect(B)
    try:
        await conn.execute("drop table if exists asyncpg_copy; create table asyncpg_copy (id int, note text)")
        status = await conn.copy_records_to_table("asyncpg_copy",
                                                  records=((i, "note %d" % i) for i in range(1, 100001)))
        expect_eq(status, "COPY 100000", "copy_records_to_table status")
        expect_eq(row(await conn.fetchrow("select count(*), sum(id) from asyncpg_copy")),
                  (100000, 100000 * 100001 // 2), "rows copied in")
        text = io.BytesIO(b"".join(b"%d\ttext %d\n" % (i, i) for i in range(100001, 100101)))
        status = await conn.copy_to_table("asyncpg_copy", source=text, format="text")
        expect_eq(status, "COPY 100", "copy_to_table status")
        out = io.BytesIO()
        status = await conn.copy_from_query("select id, note from asyncpg_copy order by id", output=out,
                                            format="csv")
        expect_eq(status, "COPY 100100", "copy_from_query status")
        lines = out.getvalue().decode().splitlines()
        expect_eq((len(lines), lines[0], lines[-1]), (100100, "1,note 1", "100100,text 100100"), "rows copied out")
    finally:
        await conn.close()


async def statement_timeout():
    conn = await connect(A, statement_timeout=str(c.TIMEOUT_MS))
    try:
        expect_eq(await conn.fetchval("show statement_timeout"), "%dms" % c.TIMEOUT_MS, "SHOW statement_timeout")
        start = time.monotonic()
        try:
            await conn.execute("select pg_sleep(2)")
            raise c.CheckFailed("pg_sleep(2) ran to completion (%.2f s): server_settings statement_timeout=%d was lost"
                                % (time.monotonic() - start, c.TIMEOUT_MS))
        except asyncpg.QueryCanceledError as e:
            expect_eq(e.sqlstate, "57014", "query canceled")
        took = time.monotonic() - start
        expect(took < 1.5, "canceled after %.2f s, expected about %d ms" % (took, c.TIMEOUT_MS))
        expect_item(A, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, 9)), 9)
    finally:
        await conn.close()


async def pool_of_20():
    pools = {}
    try:
        for t in TENANTS:
            pools[t] = await asyncpg.create_pool(
                host=c.HOST, port=c.PORT, database=c.DATABASE, user=t.user, password=t.password, ssl=False,
                server_settings={"search_path": t.schema, "application_name": "drv-asyncpg-pool"},
                min_size=c.POOL_SIZE, max_size=c.POOL_SIZE, timeout=30)

        async def work(t, worker):
            for item_id in c.item_ids(15, worker):
                async with pools[t].acquire() as conn:
                    async with conn.transaction():
                        expect_eq(await conn.fetchval("select current_schema()"), t.schema,
                                  "%s current_schema" % t)
                        expect_item(t, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, item_id)), item_id)
                        await conn.execute("select pg_sleep(0.002)")
                    # Outside the transaction too: the statement cache's named statement, autocommit.
                    expect_item(t, row(await conn.fetchrow(c.ITEM_SQL_DOLLAR, item_id)), item_id)
            return 15

        done = await asyncio.gather(*(work(t, w) for w in range(c.POOL_SIZE) for t in TENANTS))
        expect_eq(sum(done), 2 * c.POOL_SIZE * 15, "transactions checked")
    finally:
        for p in pools.values():
            await p.close()


def main():
    report = c.Report("asyncpg %s" % asyncpg.__version__)
    for name, fn in [("simple_query", simple_query), ("parameterized_query", parameterized_query),
                     ("prepared_statements", prepared_statements), ("commit_and_rollback", commit_and_rollback),
                     ("error_then_recovery", error_then_recovery), ("rows_100k", rows_100k),
                     ("executemany_batch", executemany_batch), ("copy_in_and_out", copy_in_and_out),
                     ("statement_timeout", statement_timeout), ("pool_of_20", pool_of_20)]:
        report.check(name, lambda fn=fn: asyncio.run(asyncio.wait_for(fn(), 60)))
    report.finish()


if __name__ == "__main__":
    main()
