package com.perseusproxy.server.it;

import static com.perseusproxy.server.it.DriverTenants.A;
import static com.perseusproxy.server.it.DriverTenants.B;
import static com.perseusproxy.server.it.DriverTenants.ITEM_SQL;
import static com.perseusproxy.server.it.DriverTenants.POOL_SIZE;
import static com.perseusproxy.server.it.DriverTenants.TIMEOUT_MS;
import static com.perseusproxy.server.it.DriverTenants.expectedItem;
import static com.perseusproxy.server.it.DriverTenants.itemIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgException;
import io.vertx.pgclient.PgPool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * vertx-pg-client 4.5 (the reactive client of Vert.x and Quarkus 3), on the proxy's own Netty (see proxy-server's
 * pom: every io.netty module is pinned to ours). With its defaults, {@code preparedQuery(sql).execute(tuple)} outside a
 * transaction sends {@code Parse("")/Describe/Sync} and then {@code Bind("")/Execute/Sync}: the unnamed statement must
 * survive between the two Sync groups. With {@code cachePreparedStatements} it uses named statements instead. The
 * schema and the statement timeout go as startup parameters ({@code addProperty}). Against the driver tenants (see
 * {@link DriverTenants}); vertx-pg-client has no COPY.
 */
class DriverVertxTest {

    private static Vertx vertx;

    @BeforeAll
    static void start() {
        DriverTenants.install();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        await(vertx.close());
    }

    static <T> T await(Future<T> future) throws Exception {
        try {
            return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    static PgConnectOptions options(SampleTenant t) {
        Target target = DriverTenants.target(t);
        return new PgConnectOptions().setHost(target.host()).setPort(target.port()).setDatabase(target.database())
                .setUser(target.user()).setPassword(target.password())
                .addProperty("search_path", target.schema()).addProperty("application_name", "drv-vertx");
    }

    static PgPool pool(SampleTenant t, int size, UnaryOperator<PgConnectOptions> tweak) {
        return PgPool.pool(vertx, tweak.apply(options(t)), new PoolOptions().setMaxSize(size));
    }

    static List<String> row(Row r) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < r.size(); i++) {
            values.add(String.valueOf(r.getValue(i)));
        }
        return values;
    }

    static void checkItem(SampleTenant t, SqlClient client, int id) throws Exception {
        RowSet<Row> rows = await(client.preparedQuery(ITEM_SQL).execute(Tuple.of(id)));
        assertEquals(1, rows.size(), t + " item " + id);
        assertEquals(expectedItem(t, id), row(rows.iterator().next()), t + " item " + id);
    }

    static String sqlState(Throwable e) {
        return e instanceof PgException pg ? pg.getSqlState() : "(not a server error: " + e + ")";
    }

    /**
     * The same SQL text in both tenants: first one client each, strictly alternating; then pools of 20 per tenant
     * firing all at once, so that between a client's two Sync groups other clients (of both tenants) use the
     * backends, as in any busy application.
     */
    private static void interleaved(UnaryOperator<PgConnectOptions> tweak) throws Exception {
        PgPool a = pool(A, 1, tweak);
        PgPool b = pool(B, 1, tweak);
        try {
            for (int id : itemIds(30, 3)) {
                checkItem(A, a, id);
                checkItem(B, b, id);
            }
        } finally {
            await(a.close());
            await(b.close());
        }
        List<PgPool> pools = List.of(pool(A, POOL_SIZE, tweak), pool(B, POOL_SIZE, tweak));
        try {
            for (int round = 0; round < 5; round++) {
                List<Future<Void>> all = new ArrayList<>();
                for (int id : itemIds(POOL_SIZE, round)) {
                    for (int ti = 0; ti < 2; ti++) {
                        SampleTenant t = ti == 0 ? A : B;
                        all.add(pools.get(ti).preparedQuery(ITEM_SQL).execute(Tuple.of(id)).map(rows -> {
                            assertEquals(expectedItem(t, id), row(rows.iterator().next()), t + " item " + id);
                            return null;
                        }));
                    }
                }
                for (Future<Void> f : all) {
                    await(f);
                }
            }
        } finally {
            for (PgPool p : pools) {
                await(p.close());
            }
        }
    }

    @Test
    void simpleQueries() throws Exception {
        for (SampleTenant t : List.of(A, B)) {
            PgPool p = pool(t, 1, o -> o);
            try {
                RowSet<Row> rs = await(p.query("select current_schema(), count(*) from items").execute());
                assertEquals(List.of(t.schema(), String.valueOf(DriverTenants.ITEMS)), row(rs.iterator().next()));
                RowSet<Row> items = await(p.query("select * from items order by id limit 3").execute());
                int id = 1;
                for (Row r : items) {
                    assertEquals(expectedItem(t, id), row(r));
                    id++;
                }
            } finally {
                await(p.close());
            }
        }
    }

    /** The defaults: an unnamed statement, parsed in one Sync group and bound in the next. */
    @Test
    void preparedQueryWithDefaults() throws Exception {
        interleaved(o -> o);
    }

    @Test
    void preparedQueryWithCachedPreparedStatements() throws Exception {
        interleaved(o -> o.setCachePreparedStatements(true));
    }

    @Test
    void commitRollbackAndErrorRecovery() throws Exception {
        PgPool p = pool(A, 2, o -> o.setCachePreparedStatements(true));
        try {
            await(p.query("drop table if exists vertx_scratch").execute());
            await(p.query("create table vertx_scratch (id int, note text)").execute());
            await(p.withTransaction(c -> c.preparedQuery("insert into vertx_scratch values ($1, $2)")
                    .execute(Tuple.of(1, "committed"))));
            Future<?> failed = p.withTransaction(c -> c.preparedQuery("insert into vertx_scratch values ($1, $2)")
                    .execute(Tuple.of(2, "rolled back"))
                    .compose(x -> c.query("select 1 / 0").execute()));
            try {
                await(failed);
                fail("division by zero did not fail");
            } catch (Exception e) {
                assertEquals("22012", sqlState(e), String.valueOf(e));
            }
            RowSet<Row> rs = await(p.query("select string_agg(id || ':' || note, ',') from vertx_scratch").execute());
            assertEquals("1:committed", rs.iterator().next().getString(0));
            try {
                await(p.query("select * from no_such_table").execute());
                fail("missing table did not fail");
            } catch (Exception e) {
                assertEquals("42P01", sqlState(e), String.valueOf(e));
            }
            checkItem(A, p, 8);
        } finally {
            await(p.close());
        }
    }

    @Test
    void hundredThousandRowsAndACursor() throws Exception {
        PgPool p = pool(B, 1, o -> o.setCachePreparedStatements(true));
        try {
            RowSet<Row> rs = await(p.query("select g, 'row-' || g from generate_series(1, 100000) g").execute());
            long total = 0;
            for (Row r : rs) {
                total += r.getInteger(0);
            }
            assertEquals(100_000, rs.size());
            assertEquals(100_000L * 100_001 / 2, total);
            long streamed = await(p.withTransaction(c -> c.prepare("select g from generate_series(1, $1) g")
                    .compose(ps -> {
                        var cursor = ps.cursor(Tuple.of(100_000));
                        return readAll(cursor, 0L);
                    })));
            assertEquals(100_000L * 100_001 / 2, streamed);
        } finally {
            await(p.close());
        }
    }

    private static Future<Long> readAll(io.vertx.sqlclient.Cursor cursor, long sum) {
        return cursor.read(5000).compose(rows -> {
            long s = sum;
            for (Row r : rows) {
                s += r.getInteger(0);
            }
            return cursor.hasMore() ? readAll(cursor, s) : cursor.close().map(s);
        });
    }

    @Test
    void executeBatch() throws Exception {
        for (SampleTenant t : List.of(A, B)) {
            PgPool p = pool(t, 1, o -> o.setCachePreparedStatements(true));
            try {
                await(p.query("drop table if exists vertx_batch").execute());
                await(p.query("create table vertx_batch (id int, note text)").execute());
                List<Tuple> batch = new ArrayList<>();
                for (int i = 1; i <= 1000; i++) {
                    batch.add(Tuple.of(i, "b" + i));
                }
                await(p.preparedQuery("insert into vertx_batch values ($1, $2)").executeBatch(batch));
                RowSet<Row> rs = await(p.query("select count(*), sum(id) from vertx_batch").execute());
                assertEquals(List.of("1000", "500500"), row(rs.iterator().next()), t + " rows of the batch");
                checkItem(t, p, 4);
            } finally {
                await(p.close());
            }
        }
    }

    /** Vert.x's way: a startup parameter ({@code PgConnectOptions.addProperty}). */
    @Test
    void statementTimeoutAsStartupParameter() throws Exception {
        PgPool p = pool(A, 1, o -> o.addProperty("statement_timeout", String.valueOf(TIMEOUT_MS)));
        try {
            RowSet<Row> shown = await(p.query("show statement_timeout").execute());
            assertEquals(TIMEOUT_MS + "ms", shown.iterator().next().getString(0), "SHOW statement_timeout");
            long start = System.nanoTime();
            try {
                await(p.query("select pg_sleep(2)").execute());
                fail("pg_sleep(2) ran to completion (" + (System.nanoTime() - start) / 1_000_000
                        + " ms): statement_timeout=" + TIMEOUT_MS + " given as a startup parameter was lost");
            } catch (PgException e) {
                assertEquals("57014", e.getSqlState(), e.getMessage());
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMs < 1500, "canceled after " + tookMs + " ms");
        } finally {
            await(p.close());
        }
    }

    /**
     * 20 connections per tenant over MaxOpen 5. Transactions use prepared queries (one backend for the whole
     * transaction); outside them, simple queries, so this case does not depend on the unnamed statement surviving
     * between Sync groups (that is {@link #preparedQueryWithDefaults}).
     */
    @Test
    void poolOfTwentyPerTenantOverMaxOpenFive() throws Exception {
        List<PgPool> pools = List.of(pool(A, POOL_SIZE, o -> o), pool(B, POOL_SIZE, o -> o));
        try {
            List<Future<Integer>> jobs = new ArrayList<>();
            for (int w = 0; w < POOL_SIZE; w++) {
                for (int ti = 0; ti < 2; ti++) {
                    SampleTenant t = ti == 0 ? A : B;
                    PgPool p = pools.get(ti);
                    Future<Integer> chain = Future.succeededFuture(0);
                    for (int id : itemIds(15, w)) {
                        chain = chain.compose(n -> p.withTransaction(c -> c.query("select current_schema()").execute()
                                .compose(rs -> {
                                    assertEquals(t.schema(), rs.iterator().next().getString(0));
                                    return c.preparedQuery(ITEM_SQL).execute(Tuple.of(id));
                                })
                                .compose(rs -> {
                                    assertEquals(expectedItem(t, id), row(rs.iterator().next()), t + " item " + id);
                                    return c.query("select pg_sleep(0.002)").execute();
                                }))
                                .compose(x -> p.query("select * from items where id = " + id).execute())
                                .map(rs -> {
                                    assertEquals(expectedItem(t, id), row(rs.iterator().next()), t + " item " + id);
                                    return n + 1;
                                }));
                    }
                    jobs.add(chain);
                }
            }
            int total = 0;
            for (Future<Integer> f : jobs) {
                total += await(f);
            }
            assertEquals(2 * POOL_SIZE * 15, total);
        } finally {
            for (PgPool p : pools) {
                await(p.close());
            }
        }
    }
}
