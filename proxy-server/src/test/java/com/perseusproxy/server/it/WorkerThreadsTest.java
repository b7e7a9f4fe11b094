package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.pool.PoolSlices;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * WorkerThreads 2: two data loops, each with a slice of every pool. Clients land on the loops in turn (Netty's round
 * robin at accept); the test finds out which loop holds each session from the registry's per-loop counts. Backends
 * are counted in PostgreSQL's pg_stat_activity, never taken from the proxy's own word.
 */
class WorkerThreadsTest {

    private static final int MAX_OPEN = 4;
    private static final Pattern PROCESSED =
            Pattern.compile("number of transactions actually processed: (\\d+)/(\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    private AdminBed bed;
    private final List<Connection> open = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    /** Backends whose session started after this (the proxy under test opened them). */
    private String since;

    private void start(int maxOpen) {
        assumeTrue(Targets.viaProxy(), "the proxy's data loops are what is tested");
        since = String.valueOf(Fixtures.postgres().queryValue(TestPostgres.APP_DB, "select now()::text"));
        bed = AdminBed.start(maxOpen, ", \"WorkerThreads\": 2");
        assertEquals(2, bed.proxy.proxy().clients().sizePerLoop().length, "two data loops");
    }

    @AfterEach
    void stop() throws SQLException {
        threads.shutdownNow();
        for (Connection c : open) {
            c.close();
        }
        if (bed != null) {
            bed.close();
        }
    }

    /** A tenant connection, and the loop it was accepted on. */
    private record OnLoop(Connection connection, int loop) {
    }

    private OnLoop connect(SampleTenant tenant) throws SQLException {
        int[] before = bed.proxy.proxy().clients().sizePerLoop();
        Connection c = bed.tenant(tenant).connect();
        open.add(c);
        int[] after = bed.proxy.proxy().clients().sizePerLoop();
        for (int i = 0; i < after.length; i++) {
            if (after[i] == before[i] + 1) {
                return new OnLoop(c, i);
            }
        }
        throw new AssertionError("no loop gained the session: " + List.of(before) + " -> " + List.of(after));
    }

    /** Connections of one tenant until {@code count} of them are on the same loop; the others stay open, unused. */
    private List<Connection> onOneLoop(SampleTenant tenant, int count) throws SQLException {
        List<List<Connection>> byLoop = List.of(new ArrayList<>(), new ArrayList<>());
        for (int attempt = 0; attempt < 4 * count; attempt++) {
            OnLoop c = connect(tenant);
            byLoop.get(c.loop()).add(c.connection());
            if (byLoop.get(c.loop()).size() == count) {
                return byLoop.get(c.loop());
            }
        }
        throw new AssertionError("sessions did not land " + count + " on one loop");
    }

    /** Backend connections the proxy under test holds now, as PostgreSQL counts them. */
    private long backends() {
        return Fixtures.postgres().queryLong(TestPostgres.APP_DB, "select count(*) from pg_stat_activity"
                + " where datname = current_database() and usename = '" + TestPostgres.APP_OWNER.name() + "'"
                + " and backend_start >= '" + since
                + "'::timestamptz");
    }

    private long sleeping(String marker) {
        return Fixtures.postgres().queryLong(TestPostgres.APP_DB, "select count(*) from pg_stat_activity"
                + " where state = 'active' and query like '%" + marker + "%' and pid <> pg_backend_pid()");
    }

    /** Watches the backend count in the background; {@link #max} is the most seen. */
    private final class BackendWatch implements AutoCloseable {
        final AtomicInteger max = new AtomicInteger();
        final AtomicBoolean running = new AtomicBoolean(true);
        final Future<?> loop = threads.submit(() -> {
            while (running.get()) {
                max.accumulateAndGet((int) backends(), Math::max);
                Thread.sleep(20);
            }
            return null;
        });

        @Override
        public void close() throws Exception {
            running.set(false);
            loop.get(10, TimeUnit.SECONDS);
        }
    }

    private int sharesTotal() {
        PoolSlices pool = bed.proxy.proxy().pools().destinations().iterator().next();
        return pool.shares().stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void clientsOnOneLoopBorrowTheWholeMaxOpen() throws Exception {
        start(MAX_OPEN);
        List<Connection> same = onOneLoop(Fixtures.TENANT_A, MAX_OPEN);
        String marker = "steal_" + System.nanoTime();
        try (BackendWatch watch = new BackendWatch()) {
            List<Future<?>> running = new ArrayList<>();
            for (Connection c : same) {
                running.add(threads.submit(() -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("select pg_sleep(6) /* " + marker + " */");
                    }
                    return null;
                }));
            }
            // Generous for a loaded machine: the sleeps last 6 s, a unit moves in milliseconds.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            long seen = 0;
            while (System.nanoTime() < deadline && (seen = sleeping(marker)) < MAX_OPEN) {
                Thread.sleep(25);
            }
            assertEquals(MAX_OPEN, seen, "all four transactions of one loop's clients run at once: the loop"
                    + " borrowed its sibling's share");
            for (Future<?> f : running) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertTrue(watch.max.get() <= MAX_OPEN, "at most MaxOpen backends in all, saw " + watch.max.get());
        }
        assertEquals(MAX_OPEN, sharesTotal(), "the shares still add up to MaxOpen");
    }

    @Test
    void aBusyLoopThatBorrowedEverythingGivesTheOtherLoopItsShareBack() throws Exception {
        start(MAX_OPEN);
        List<OnLoop> sessions = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            sessions.add(connect(Fixtures.TENANT_A));
        }
        int busyLoop = sessions.get(0).loop();
        List<Connection> busy = sessions.stream().filter(c -> c.loop() == busyLoop).map(OnLoop::connection).toList();
        List<Connection> late = sessions.stream().filter(c -> c.loop() != busyLoop).map(OnLoop::connection).toList();
        assertEquals(6, busy.size(), "accepts alternate between the loops");
        // More sessions than MaxOpen on one loop, always queueing: that loop borrows all of MaxOpen and never has
        // a connection to spare.
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<?>> load = new ArrayList<>();
        for (Connection c : busy) {
            load.add(threads.submit(() -> {
                try (Statement st = c.createStatement()) {
                    while (!stop.get()) {
                        st.execute("select pg_sleep(0.3)");
                    }
                }
                return null;
            }));
        }
        try (BackendWatch watch = new BackendWatch()) {
            Thread.sleep(1500);
            long started = System.nanoTime();
            List<Future<?>> lateOnes = new ArrayList<>();
            for (Connection c : late.subList(0, 2)) {
                lateOnes.add(threads.submit(() -> {
                    try (Statement st = c.createStatement()) {
                        st.execute("select 1");
                    }
                    return null;
                }));
            }
            for (Future<?> f : lateOnes) {
                f.get(30, TimeUnit.SECONDS);
            }
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            // QueryWaitTimeoutSecs is 60: a loop that kept its borrowed units would make these wait that long.
            assertTrue(waitedMillis < 10_000, "the other loop's sessions got their share back in " + waitedMillis
                    + " ms");
            stop.set(true);
            for (Future<?> f : load) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertTrue(watch.max.get() <= MAX_OPEN, "at most MaxOpen backends in all, saw " + watch.max.get());
        }
        assertEquals(MAX_OPEN, sharesTotal());
    }

    @Test
    void pgbenchAndTenantsOnBothLoopsStayWithinMaxOpen() throws Exception {
        start(MAX_OPEN);
        Target bench = bed.tenant(Fixtures.BENCH);
        PgTools.Result init = PgTools.run(PgTools.pgbench(bench, "-i", "-s", "1", "-q"), bench,
                Duration.ofSeconds(120));
        assertTrue(init.ok(), init.describe());
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<Integer>> tenants = new ArrayList<>();
        for (SampleTenant tenant : List.of(Fixtures.TENANT_A, Fixtures.TENANT_B, Fixtures.TENANT_A,
                Fixtures.TENANT_B)) {
            Connection c = connect(tenant).connection();
            tenants.add(threads.submit(() -> {
                int checked = 0;
                try (Statement st = c.createStatement()) {
                    while (!stop.get()) {
                        try (ResultSet rs = st.executeQuery("select current_schema()")) {
                            rs.next();
                            assertEquals(tenant.schema(), rs.getString(1), "a transaction ran in its tenant's"
                                    + " schema");
                        }
                        checked++;
                    }
                }
                return checked;
            }));
        }
        int clients = 10;
        int perClient = 50;
        try (BackendWatch watch = new BackendWatch()) {
            PgTools.Result r = PgTools.run(PgTools.pgbench(bench, "--no-vacuum", "-c", String.valueOf(clients),
                    "-j", "2", "-t", String.valueOf(perClient)), bench, Duration.ofSeconds(180));
            stop.set(true);
            assertTrue(r.ok(), r.describe());
            Matcher processed = PROCESSED.matcher(r.stdout());
            assertTrue(processed.find(), r.describe());
            assertEquals(clients * perClient, Integer.parseInt(processed.group(1)), r.describe());
            Matcher failed = FAILED.matcher(r.stdout());
            if (failed.find()) {
                assertEquals(0, Integer.parseInt(failed.group(1)), r.describe());
            }
            for (Future<Integer> t : tenants) {
                assertTrue(t.get(30, TimeUnit.SECONDS) > 0, "each tenant's client ran transactions meanwhile");
            }
            assertTrue(watch.max.get() <= MAX_OPEN, "at most MaxOpen backends in all, saw " + watch.max.get());
        }
        // TPC-B's own bookkeeping in the bench schema: every transaction added the same delta to one account, its
        // teller and its branch, and wrote one history row.
        TestPostgres pg = Fixtures.postgres();
        assertEquals(clients * perClient, pg.queryLong(TestPostgres.APP_DB, "select count(*) from"
                + " bench.pgbench_history"));
        long accounts = pg.queryLong(TestPostgres.APP_DB, "select sum(abalance) from bench.pgbench_accounts");
        assertEquals(accounts, pg.queryLong(TestPostgres.APP_DB, "select sum(bbalance) from"
                + " bench.pgbench_branches"));
        assertEquals(accounts, pg.queryLong(TestPostgres.APP_DB, "select sum(tbalance) from"
                + " bench.pgbench_tellers"));
        assertEquals(0, pg.queryLong(TestPostgres.APP_DB, "select count(*) from pg_tables where tablename like"
                + " 'pgbench%' and schemaname not in ('bench')"), "no pgbench table outside the bench schema");
    }

    @Test
    void aCancelReachesASessionOnTheOtherLoop() throws Exception {
        start(MAX_OPEN);
        Connection target = connect(Fixtures.TENANT_A).connection();
        // Accepts alternate between the two loops, so of two cancel connections in a row one is accepted on the
        // other loop than the session's.
        for (int round = 0; round < 2; round++) {
            try (Statement st = target.createStatement()) {
                Future<?> cancel = threads.submit(() -> {
                    String marker = "select pg_sleep(20)";
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                    while (System.nanoTime() < deadline && sleeping(marker) == 0) {
                        Thread.sleep(20);
                    }
                    st.cancel();
                    return null;
                });
                long started = System.nanoTime();
                SQLException e = assertThrows(SQLException.class, () -> st.execute("select pg_sleep(20)"));
                assertEquals("57014", e.getSQLState(), "round " + round + ": " + e.getMessage());
                assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(15), "cancelled, not finished");
                cancel.get(10, TimeUnit.SECONDS);
            }
            try (Statement st = target.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
                assertTrue(rs.next(), "the session carries on after the cancel");
            }
        }
    }

    @Test
    void showPoolsHasOneRowPerPoolAndAReloadResizesTheTotal() throws Exception {
        start(MAX_OPEN);
        OnLoop first = connect(Fixtures.TENANT_A);
        OnLoop second = connect(Fixtures.TENANT_A);
        assertTrue(first.loop() != second.loop(), "two sessions in a row land on different loops");
        for (OnLoop c : List.of(first, second)) {
            try (Statement st = c.connection().createStatement()) {
                st.execute("select 1");
            }
        }
        try (PgWire admin = bed.adminWire()) {
            List<String> databases = AdminBed.column(admin.simpleQuery("SHOW POOLS"), "database");
            assertEquals(List.of(TestPostgres.APP_DB), databases, "one row for the pool, both slices in it");
            List<String> poolSize = AdminBed.column(admin.simpleQuery("SHOW DATABASES"), "pool_size");
            assertEquals(List.of(String.valueOf(MAX_OPEN)), poolSize, "the pool's MaxOpen, not a slice's share");
            long servers = AdminBed.rows(admin.simpleQuery("SHOW SERVERS")).size();
            assertEquals(backends(), servers, "SHOW SERVERS lists the backends of both slices");
        }

        bed.proxy.reloadPoolSettings(ProxyConfig.parse(bed.json.replace("\"MaxOpen\": " + MAX_OPEN,
                "\"MaxOpen\": 6"), Map.of()));
        awaitShares(6);
        List<Connection> same = onOneLoop(Fixtures.TENANT_B, 6);
        String marker = "raised_" + System.nanoTime();
        List<Future<?>> running = new ArrayList<>();
        for (Connection c : same) {
            running.add(threads.submit(() -> {
                try (Statement st = c.createStatement()) {
                    st.execute("select pg_sleep(6) /* " + marker + " */");
                }
                return null;
            }));
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long seen = 0;
        while (System.nanoTime() < deadline && (seen = sleeping(marker)) < 6) {
            Thread.sleep(25);
        }
        assertEquals(6, seen, "the raised MaxOpen applies to the pool as a whole");
        for (Future<?> f : running) {
            f.get(30, TimeUnit.SECONDS);
        }

        bed.proxy.reloadPoolSettings(ProxyConfig.parse(bed.json.replace("\"MaxOpen\": " + MAX_OPEN,
                "\"MaxOpen\": 2").replace("\"MaxIdle\": " + MAX_OPEN, "\"MaxIdle\": 2"), Map.of()));
        awaitShares(2);
        long closeBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < closeBy && backends() > 2) {
            Thread.sleep(50);
        }
        assertTrue(backends() <= 2, "a lowered MaxOpen closes the surplus: " + backends() + " backends");
    }

    private void awaitShares(int total) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && sharesTotal() != total) {
            Thread.sleep(20);
        }
        assertEquals(total, sharesTotal(), "the slices' shares add up to the reloaded MaxOpen");
    }
}
