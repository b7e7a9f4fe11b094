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
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Readable;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * r2dbc-postgresql (Spring Data R2DBC's driver) with r2dbc-pool, on reactor-netty 1.3 over the proxy's own Netty.
 * Statements without bindings use the simple query protocol, statements with bindings named prepared statements
 * from its statement cache. The schema is the configuration's {@code schema} (a startup parameter), the statement
 * timeout either the configuration's {@code statementTimeout} (a startup parameter) or the SPI's
 * {@code Connection.setStatementTimeout} (a session {@code SET}). Against the driver tenants (see
 * {@link DriverTenants}).
 */
class DriverR2dbcTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @BeforeAll
    static void tenants() {
        DriverTenants.install();
    }

    static PostgresqlConnectionFactory factory(SampleTenant t,
                                               UnaryOperator<PostgresqlConnectionConfiguration.Builder> tweak) {
        Target target = DriverTenants.target(t);
        return new PostgresqlConnectionFactory(tweak.apply(PostgresqlConnectionConfiguration.builder()
                .host(target.host()).port(target.port()).database(target.database())
                .username(target.user()).password(target.password()).schema(target.schema())
                .applicationName("drv-r2dbc").connectTimeout(Duration.ofSeconds(10))).build());
    }

    static <T> T with(SampleTenant t, UnaryOperator<PostgresqlConnectionConfiguration.Builder> tweak,
                      Function<PostgresqlConnection, Mono<T>> work) {
        return Mono.usingWhen(factory(t, tweak).create(), work, PostgresqlConnection::close).block(WAIT);
    }

    static List<String> row(Readable r, int columns) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < columns; i++) {
            values.add(String.valueOf(r.get(i)));
        }
        return values;
    }

    static Mono<List<String>> item(Connection c, int id) {
        return Flux.from(c.createStatement(ITEM_SQL).bind("$1", id).execute())
                .flatMap(result -> result.map((r, meta) -> row(r, meta.getColumnMetadatas().size())))
                .single();
    }

    static Mono<Void> checkItem(SampleTenant t, Connection c, int id) {
        return item(c, id).doOnNext(r -> assertEquals(expectedItem(t, id), r, t + " item " + id)).then();
    }

    static Flux<List<String>> query(Connection c, String sql) {
        return Flux.from(c.createStatement(sql).execute())
                .flatMap(result -> result.map((r, meta) -> row(r, meta.getColumnMetadatas().size())));
    }

    static String sqlState(Throwable e) {
        return e instanceof R2dbcException r ? r.getSqlState() : "(not a server error: " + e + ")";
    }

    @Test
    void simpleQueries() {
        for (SampleTenant t : List.of(A, B)) {
            List<List<String>> rows = with(t, b -> b, c -> query(c, "select current_schema(), count(*) from items")
                    .collectList());
            assertEquals(List.of(List.of(t.schema(), String.valueOf(DriverTenants.ITEMS))), rows);
            List<List<String>> items = with(t, b -> b, c -> query(c, "select * from items order by id limit 3")
                    .collectList());
            for (int i = 0; i < 3; i++) {
                assertEquals(expectedItem(t, i + 1), items.get(i));
            }
        }
    }

    @Test
    void boundStatementsInterleavedAcrossTenants() {
        // Named statements from r2dbc's statement cache; the same SQL text in both tenants, autocommit.
        PostgresqlConnection a = factory(A, b -> b).create().block(WAIT);
        PostgresqlConnection b = factory(B, x -> x).create().block(WAIT);
        try {
            for (int id : itemIds(30, 3)) {
                checkItem(A, a, id).block(WAIT);
                checkItem(B, b, id).block(WAIT);
            }
            // And with the cache off: unnamed statements.
        } finally {
            a.close().block(WAIT);
            b.close().block(WAIT);
        }
        PostgresqlConnection u = factory(B, x -> x.preparedStatementCacheQueries(0)).create().block(WAIT);
        try {
            for (int id : itemIds(10, 5)) {
                checkItem(B, u, id).block(WAIT);
            }
        } finally {
            u.close().block(WAIT);
        }
    }

    @Test
    void commitRollbackAndErrorRecovery() {
        String rows = with(A, b -> b, c -> Mono.from(c.createStatement(
                        "drop table if exists r2dbc_scratch; create table r2dbc_scratch (id int, note text)").execute())
                .flatMap(r -> Mono.from(r.getRowsUpdated()).then())
                .then(Mono.from(c.beginTransaction()))
                .then(Mono.from(c.createStatement("insert into r2dbc_scratch values ($1, $2)").bind("$1", 1)
                        .bind("$2", "committed").execute()).flatMap(r -> Mono.from(r.getRowsUpdated())))
                .then(Mono.from(c.commitTransaction()))
                .then(Mono.from(c.beginTransaction()))
                .then(Mono.from(c.createStatement("insert into r2dbc_scratch values ($1, $2)").bind("$1", 2)
                        .bind("$2", "rolled back").execute()).flatMap(r -> Mono.from(r.getRowsUpdated())))
                .then(Mono.from(c.rollbackTransaction()))
                .then(query(c, "select string_agg(id || ':' || note, ',') from r2dbc_scratch").single())
                .map(r -> r.get(0)));
        assertEquals("1:committed", rows);

        String recovered = with(B, b -> b, c -> Mono.from(c.beginTransaction())
                .then(query(c, "select 1 / 0").then())
                .then(Mono.<String>error(new AssertionError("division by zero did not fail")))
                .onErrorResume(R2dbcException.class, e -> {
                    assertEquals("22012", e.getSqlState(), e.getMessage());
                    return Mono.from(c.rollbackTransaction()).then(Mono.just("rolled back"));
                })
                .then(checkItem(B, c, 7))
                .then(query(c, "select * from no_such_table").then(Mono.<String>error(
                        new AssertionError("missing table did not fail"))))
                .onErrorResume(R2dbcException.class, e -> {
                    assertEquals("42P01", e.getSqlState(), e.getMessage());
                    return checkItem(B, c, 8).then(Mono.just("recovered"));
                }));
        assertEquals("recovered", recovered);
    }

    @Test
    void hundredThousandRows() {
        long[] sums = with(A, b -> b, c -> Flux.from(c.createStatement(
                        "select g from generate_series(1, $1) g").bind("$1", 100_000).execute())
                .flatMap(r -> r.map((row, meta) -> row.get(0, Integer.class)))
                .reduce(new long[2], (acc, g) -> {
                    acc[0]++;
                    acc[1] += g;
                    return acc;
                }));
        assertEquals(100_000, sums[0]);
        assertEquals(100_000L * 100_001 / 2, sums[1]);
        // fetchSize inside a transaction: a portal read 1000 rows at a time.
        long[] cursor = with(B, b -> b, c -> Mono.from(c.beginTransaction())
                .thenMany(Flux.from(c.createStatement("select g from generate_series(1, $1) g").bind("$1", 100_000)
                        .fetchSize(1000).execute()).flatMap(r -> r.map((row, meta) -> row.get(0, Integer.class))))
                .reduce(new long[2], (acc, g) -> {
                    acc[0]++;
                    acc[1] += g;
                    return acc;
                })
                .flatMap(acc -> Mono.from(c.commitTransaction()).thenReturn(acc)));
        assertEquals(100_000, cursor[0]);
        assertEquals(100_000L * 100_001 / 2, cursor[1]);
    }

    @Test
    void copyIn() {
        long copied = with(B, b -> b, c -> query(c, "drop table if exists r2dbc_copy").then()
                .then(query(c, "create table r2dbc_copy (id int, note text)").then())
                .then(c.copyIn("copy r2dbc_copy (id, note) from stdin", Flux.range(0, 100).map(chunk -> {
                    StringBuilder sb = new StringBuilder();
                    for (int i = chunk * 1000 + 1; i <= chunk * 1000 + 1000; i++) {
                        sb.append(i).append("\tnote ").append(i).append('\n');
                    }
                    ByteBuf buf = ByteBufAllocator.DEFAULT.buffer();
                    buf.writeCharSequence(sb, StandardCharsets.UTF_8);
                    return buf;
                }))));
        assertEquals(100_000, copied);
        List<String> stats = with(B, b -> b, c -> query(c, "select count(*), sum(id) from r2dbc_copy").single());
        assertEquals(List.of("100000", "5000050000"), stats);
    }

    @Test
    void batches() {
        for (SampleTenant t : List.of(A, B)) {
            List<String> stats = with(t, b -> b, c -> query(c, "drop table if exists r2dbc_batch").then()
                    .then(query(c, "create table r2dbc_batch (id int, note text)").then())
                    // Several bindings of one statement: pipelined Bind/Execute.
                    .then(Flux.from(addAll(c.createStatement("insert into r2dbc_batch values ($1, $2)"), 1, 500)
                            .execute()).flatMap(r -> r.getRowsUpdated()).then())
                    // A Batch: several SQL texts, sent as one simple query.
                    .then(Flux.from(c.createBatch().add("insert into r2dbc_batch values (501, 'x')")
                            .add("insert into r2dbc_batch values (502, 'y')").execute())
                            .flatMap(r -> r.getRowsUpdated()).then())
                    .then(checkItem(t, c, 4))
                    .then(query(c, "select count(*), sum(id) from r2dbc_batch").single()));
            assertEquals(List.of("502", String.valueOf(502L * 503 / 2)), stats, t + " rows of the batches");
        }
    }

    private static io.r2dbc.spi.Statement addAll(io.r2dbc.spi.Statement st, int from, int to) {
        for (int i = from; i <= to; i++) {
            st.bind("$1", i).bind("$2", "b" + i);
            if (i < to) {
                st.add();
            }
        }
        return st;
    }

    /** The configuration's {@code statementTimeout}: sent as the startup parameter statement_timeout. */
    @Test
    void statementTimeoutFromConfiguration() {
        assertTimeout(b -> b.statementTimeout(Duration.ofMillis(TIMEOUT_MS)), c -> Mono.empty());
    }

    /**
     * The R2DBC SPI's {@code Connection.setStatementTimeout}: a session {@code SET statement_timeout}. Then the other
     * tenant keeps every backend connection busy for a moment, as in any busy application, so the client's next
     * statements run on a backend connection that it did not {@code SET}: the setting must follow the client.
     */
    @Test
    void statementTimeoutFromConnectionSetStatementTimeout() {
        assertTimeout(b -> b, c -> c.setStatementTimeout(Duration.ofMillis(TIMEOUT_MS))
                .then(Mono.fromRunnable(DriverR2dbcTest::otherTenantUsesEveryBackend)
                        .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic()).then()));
    }

    /** Twice the proxy's MaxOpen of tenant B's transactions at once, each holding its backend for 200 ms. */
    static void otherTenantUsesEveryBackend() {
        int n = 2 * TestProxy.MAX_OPEN;
        java.util.concurrent.ExecutorService exec = java.util.concurrent.Executors.newFixedThreadPool(n);
        try {
            List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                jobs.add(exec.submit(() -> {
                    try (java.sql.Connection c = DriverTenants.target(B).connect();
                         java.sql.Statement st = c.createStatement()) {
                        st.execute("select pg_sleep(0.2)");
                    }
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : jobs) {
                f.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (Exception e) {
            throw new IllegalStateException("the other tenant's transactions failed: " + e, e);
        } finally {
            exec.shutdownNow();
        }
    }

    private static void assertTimeout(UnaryOperator<PostgresqlConnectionConfiguration.Builder> tweak,
                                      Function<PostgresqlConnection, Mono<Void>> setUp) {
        String outcome = with(A, tweak, c -> setUp.apply(c)
                .then(query(c, "show statement_timeout").single())
                .doOnNext(r -> assertEquals(TIMEOUT_MS + "ms", r.get(0), "SHOW statement_timeout"))
                .then(Mono.fromCallable(System::nanoTime))
                .flatMap(start -> query(c, "select pg_sleep(2)").then()
                        .then(Mono.<String>fromCallable(() -> {
                            throw new AssertionError("pg_sleep(2) ran to completion ("
                                    + (System.nanoTime() - start) / 1_000_000 + " ms): statement_timeout="
                                    + TIMEOUT_MS + " was lost");
                        }))
                        .onErrorResume(R2dbcException.class, e -> {
                            assertEquals("57014", e.getSqlState(), e.getMessage());
                            long tookMs = (System.nanoTime() - start) / 1_000_000;
                            assertTrue(tookMs < 1500, "canceled after " + tookMs + " ms");
                            return checkItem(A, c, 9).thenReturn("canceled");
                        })));
        assertEquals("canceled", outcome);
    }

    @Test
    void poolOfTwentyPerTenantOverMaxOpenFive() {
        List<ConnectionPool> pools = new ArrayList<>();
        for (SampleTenant t : List.of(A, B)) {
            pools.add(new ConnectionPool(ConnectionPoolConfiguration.builder(factory(t, b -> b))
                    .initialSize(POOL_SIZE).maxSize(POOL_SIZE).maxAcquireTime(Duration.ofSeconds(30)).build()));
        }
        try {
            List<Mono<Integer>> jobs = new ArrayList<>();
            for (int w = 0; w < POOL_SIZE; w++) {
                for (int ti = 0; ti < 2; ti++) {
                    SampleTenant t = ti == 0 ? A : B;
                    ConnectionPool pool = pools.get(ti);
                    int worker = w;
                    jobs.add(Flux.fromArray(box(itemIds(15, worker))).concatMap(id -> Mono.usingWhen(pool.create(),
                            c -> Mono.from(c.beginTransaction())
                                    .then(query(c, "select current_schema()").single())
                                    .doOnNext(r -> assertEquals(List.of(t.schema()), r, t + " current_schema"))
                                    .then(checkItem(t, c, id))
                                    .then(query(c, "select pg_sleep(0.002)").then())
                                    .then(Mono.from(c.commitTransaction()))
                                    .then(checkItem(t, c, id))
                                    .thenReturn(1),
                            Connection::close)).reduce(0, Integer::sum));
                }
            }
            int total = Flux.merge(jobs).reduce(0, Integer::sum).block(Duration.ofSeconds(120));
            assertEquals(2 * POOL_SIZE * 15, total);
        } finally {
            pools.forEach(p -> p.dispose());
        }
    }

    private static Integer[] box(int[] ids) {
        Integer[] boxed = new Integer[ids.length];
        for (int i = 0; i < ids.length; i++) {
            boxed[i] = ids[i];
        }
        return boxed;
    }
}
