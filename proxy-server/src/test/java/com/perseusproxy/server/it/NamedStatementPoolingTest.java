package com.perseusproxy.server.it;

import static com.perseusproxy.server.it.PgWire.bind;
import static com.perseusproxy.server.it.PgWire.concat;
import static com.perseusproxy.server.it.PgWire.describeStatement;
import static com.perseusproxy.server.it.PgWire.execute;
import static com.perseusproxy.server.it.PgWire.parse;
import static com.perseusproxy.server.it.PgWire.sync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolStats;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import com.perseusproxy.server.it.PgWire.Message;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGStatement;

/**
 * Named prepared statements under transaction pooling with real drivers and several clients per backend: pgjdbc with
 * its default prepareThreshold on a pool smaller than the client count, two tenants whose same query text means
 * differently shaped tables sharing one backend, the per-backend limit with least-recently-used eviction, and a
 * prepare answered while every backend is busy. The last three need pool settings of their own, so they run on
 * dedicated proxy instances (proxy only).
 */
class NamedStatementPoolingTest {

    private static final int CLIENTS = 10;
    private static final int TRANSACTIONS_PER_CLIENT = 60;
    private static final int EXECUTIONS_PER_TRANSACTION = 5;
    private static final String SHAPE_QUERY = "select * from prep_shape where id >= $1 order by id";

    @BeforeAll
    static void createDifferentlyShapedTables() {
        // Same table name in both tenants, different column count and types.
        TestPostgres pg = Fixtures.postgres();
        pg.execute(TestPostgres.APP_DB,
                "drop table if exists tenant_a.prep_shape",
                "create table tenant_a.prep_shape (id int primary key, label text)",
                "insert into tenant_a.prep_shape values (1, 'a-one'), (2, 'a-two')",
                "alter table tenant_a.prep_shape owner to " + TestPostgres.APP_OWNER.name(),
                "drop table if exists tenant_b.prep_shape",
                "create table tenant_b.prep_shape (id bigint primary key, amount numeric(10,2), active boolean,"
                        + " label text)",
                "insert into tenant_b.prep_shape values (1, 10.50, true, 'b-one'), (2, 20.00, false, 'b-two'),"
                        + " (3, 30.25, true, 'b-three')",
                "alter table tenant_b.prep_shape owner to " + TestPostgres.APP_OWNER.name());
    }

    @Test
    void pgjdbcDefaultThresholdThousandsOfExecutionsOnASmallerPool() throws Exception {
        SampleTenant tenant = Fixtures.TENANT_A;
        Target target = Targets.forTenant(tenant);
        String marker = Fixtures.body(tenant, "prep-" + UUID.randomUUID());
        long clientParsesBefore = proxyStats().map(PoolStats::clientParseCount).orElse(0L);
        long serverParsesBefore = proxyStats().map(PoolStats::serverParseCount).orElse(0L);

        int executions = 0;
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                results.add(clients.submit(() -> runClient(target, client, marker)));
            }
            for (Future<Integer> result : results) {
                executions += result.get(120, TimeUnit.SECONDS);
            }
            assertEquals(CLIENTS * TRANSACTIONS_PER_CLIENT * (EXECUTIONS_PER_TRANSACTION + 1), executions);
        } finally {
            clients.shutdownNow();
        }
        TestPostgres pg = Fixtures.postgres();
        assertEquals(CLIENTS * TRANSACTIONS_PER_CLIENT, pg.queryLong(TestPostgres.APP_DB,
                "select count(*) from tenant_a.notes where body like '" + marker + "%'"), "every insert committed");
        pg.execute(TestPostgres.APP_DB, "delete from tenant_a.notes where body like '" + marker + "%'");

        if (Targets.viaProxy()) {
            long clientParses = proxyStats().orElseThrow().clientParseCount() - clientParsesBefore;
            long serverParses = proxyStats().orElseThrow().serverParseCount() - serverParsesBefore;
            // Each client parses each statement once; a backend needs it once for all of them (the key is shared),
            // and again only after losing it (a DISCARD ALL at lease start: pgjdbc's own SETs at connect dirty the
            // backend they run on).
            assertTrue(clientParses >= 2L * CLIENTS, "client_parse_count grew by " + clientParses);
            assertTrue(serverParses > 0 && serverParses < executions / 20,
                    "server_parse_count grew by " + serverParses + " for " + executions + " executions");
        }
    }

    /** One client: many transactions of the same two PreparedStatements; returns the executions checked. */
    private static int runClient(Target target, int client, String marker) throws SQLException {
        int executions = 0;
        try (Connection c = target.connectWithNamedStatements();
             PreparedStatement add = c.prepareStatement("select ?::int + ?::int, current_schema()");
             PreparedStatement insert = c.prepareStatement("insert into notes (body) values (?)")) {
            for (int t = 0; t < TRANSACTIONS_PER_CLIENT; t++) {
                boolean explicit = t % 2 == 0; // alternate explicit transactions and autocommit
                c.setAutoCommit(!explicit);
                for (int e = 0; e < EXECUTIONS_PER_TRANSACTION; e++) {
                    add.setInt(1, client * 1000 + t);
                    add.setInt(2, e);
                    try (ResultSet rs = add.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(client * 1000 + t + e, rs.getInt(1));
                        assertEquals(target.schema(), rs.getString(2));
                    }
                    executions++;
                }
                insert.setString(1, marker + " client " + client + " tx " + t);
                assertEquals(1, insert.executeUpdate());
                executions++;
                if (explicit) {
                    c.commit();
                }
            }
            assertTrue(add.unwrap(PGStatement.class).isUseServerPrepare(), "pgjdbc switched to a named statement");
        }
        return executions;
    }

    @Test
    void twoTenantsSameQueryDifferentShapesShareOneBackend() throws Exception {
        assumeTrue(Targets.viaProxy(), "needs a proxy with a single backend connection");
        try (PerseusService proxy = TestProxy.startDedicated(1)) {
            Target a = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            Target b = Targets.viaProxy(Fixtures.TENANT_B, "127.0.0.1", proxy.port());
            try (PgWire wireA = PgWire.open(a); PgWire wireB = PgWire.open(b)) {
                wireA.login(a);
                wireB.login(b);
                // Same statement name, same text, for both tenants: each must get its own plan and its own rows.
                byte[] prepare = concat(parse("shape", SHAPE_QUERY), describeStatement("shape"), sync());
                wireA.send(prepare);
                assertEquals(2, columnCount(wireA.readUntilReady(1)));
                wireB.send(prepare);
                assertEquals(4, columnCount(wireB.readUntilReady(1)));
                for (int round = 0; round < 20; round++) {
                    List<Message> rowsA = runShape(wireA);
                    assertEquals(List.of("1", "2"), PgWire.firstColumn(rowsA));
                    assertEquals(2, columnCount(rowsA));
                    List<Message> rowsB = runShape(wireB);
                    assertEquals(List.of("1", "2", "3"), PgWire.firstColumn(rowsB));
                    assertEquals(4, columnCount(rowsB));
                }
                String pidA = wireA.queryColumn("select pg_backend_pid()").get(0);
                String pidB = wireB.queryColumn("select pg_backend_pid()").get(0);
                assertEquals(pidA, pidB, "both tenants ran on the one backend");
                wireA.terminate();
                wireB.terminate();
            }
            // The same through pgjdbc, named from the first execution, interleaved.
            try (Connection ca = a.connectWithNamedStatements("prepareThreshold", "1");
                 Connection cb = b.connectWithNamedStatements("prepareThreshold", "1");
                 PreparedStatement pa = ca.prepareStatement(SHAPE_QUERY.replace("$1", "?"));
                 PreparedStatement pb = cb.prepareStatement(SHAPE_QUERY.replace("$1", "?"))) {
                for (int round = 0; round < 20; round++) {
                    assertEquals(List.of("1:a-one", "2:a-two"), shapeRows(pa, 2));
                    assertEquals(List.of("1:10.50:true:b-one", "2:20.00:false:b-two", "3:30.25:true:b-three"),
                            shapeRows(pb, 4));
                }
            }
        }
    }

    @Test
    void evictionAtALimitOfTwoWithFiveStatementsInRotation() throws Exception {
        assumeTrue(Targets.viaProxy(), "needs a proxy with MaxPreparedStatements 2");
        try (PerseusService proxy = TestProxy.startDedicatedWithMaxPreparedStatements(2, 2)) {
            Target target = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            // Several pgjdbc clients, each rotating five named statements, alternating transactions and autocommit.
            ExecutorService clients = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < 3; c++) {
                    int client = c;
                    done.add(clients.submit(() -> {
                        rotateFiveStatements(target, client);
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(120, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
            // Five statements in one pipeline: each Bind after the first two finds its statement evicted.
            try (PgWire wire = PgWire.open(target)) {
                wire.login(target);
                List<byte[]> messages = new ArrayList<>();
                for (int k = 1; k <= 5; k++) {
                    messages.add(parse("s" + k, "select $1::int + " + k));
                }
                for (int round = 0; round < 3; round++) {
                    for (int k = 1; k <= 5; k++) {
                        messages.add(bind("s" + k, String.valueOf(round * 10)));
                        messages.add(execute());
                    }
                }
                messages.add(sync());
                wire.send(concat(messages.toArray(new byte[0][])));
                List<Message> replies = wire.readUntilReady(1);
                assertEquals("11111" + "2DC".repeat(15) + "Z", PgWire.types(replies));
                List<String> expected = new ArrayList<>();
                for (int round = 0; round < 3; round++) {
                    for (int k = 1; k <= 5; k++) {
                        expected.add(String.valueOf(round * 10 + k));
                    }
                }
                assertEquals(expected, PgWire.firstColumn(replies));
                long held = Long.parseLong(wire.queryColumn(
                        "select count(*) from pg_prepared_statements where name like 'perseus%'").get(0));
                assertTrue(held <= 2, "the backend holds " + held + " statements");
                wire.terminate();
            }
            PoolStats stats = appDbStats(proxy).orElseThrow();
            assertTrue(stats.serverParseCount() > 5, "evicted statements were parsed again: "
                    + stats.serverParseCount());
        }
    }

    private static void rotateFiveStatements(Target target, int client) throws SQLException {
        try (Connection c = target.connectWithNamedStatements("prepareThreshold", "1")) {
            List<PreparedStatement> statements = new ArrayList<>();
            for (int k = 1; k <= 5; k++) {
                statements.add(c.prepareStatement("select ?::int * " + k + ", current_schema()"));
            }
            for (int round = 0; round < 40; round++) {
                c.setAutoCommit(round % 2 == 0);
                for (int k = 1; k <= 5; k++) {
                    PreparedStatement ps = statements.get((k + round + client) % 5);
                    int factor = (k + round + client) % 5 + 1;
                    ps.setInt(1, round);
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(round * factor, rs.getInt(1));
                        assertEquals(target.schema(), rs.getString(2));
                    }
                }
                if (!c.getAutoCommit()) {
                    c.commit();
                }
            }
            for (PreparedStatement ps : statements) {
                ps.close();
            }
        }
    }

    @Test
    void aKnownStatementIsPreparedWhileEveryBackendIsBusy() {
        assumeTrue(Targets.viaProxy(), "needs a proxy with a single backend connection");
        try (PerseusService proxy = TestProxy.startDedicated(1)) {
            Target target = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            try (PgWire first = PgWire.open(target); PgWire holder = PgWire.open(target);
                 PgWire second = PgWire.open(target.host(), target.port(), Duration.ofSeconds(5))) {
                first.login(target);
                holder.login(target);
                second.login(target);
                first.send(concat(parse("answer", "select 41 + 1"), sync()));
                assertEquals("1Z", PgWire.types(first.readUntilReady(1)));
                holder.simpleQuery("begin; select 1"); // the only backend is now busy
                // pgbench prepares synchronously on one thread while its other clients hold every backend: the
                // prepare of a statement the pool knows must not wait for a backend.
                second.send(concat(parse("mine", "select 41 + 1"), sync()));
                assertEquals("1Z", PgWire.types(second.readUntilReady(1)));
                second.send(concat(bind("mine"), execute(), sync()));
                holder.simpleQuery("commit");
                List<Message> replies = second.readUntilReady(1);
                assertEquals("2DCZ", PgWire.types(replies));
                assertEquals(List.of("42"), PgWire.firstColumn(replies));
                first.terminate();
                holder.terminate();
                second.terminate();
            }
        }
    }

    private static List<Message> runShape(PgWire wire) {
        wire.send(concat(bind("shape", "1"), PgWire.describePortal(), execute(), sync()));
        List<Message> messages = wire.readUntilReady(1);
        assertEquals("2T" + "D".repeat(countRows(messages)) + "CZ", PgWire.types(messages));
        return messages;
    }

    private static int countRows(List<Message> messages) {
        return (int) messages.stream().filter(m -> m.type() == 'D').count();
    }

    /** The column count of the (first) RowDescription. */
    private static int columnCount(List<Message> messages) {
        for (Message m : messages) {
            if (m.type() == 'T') {
                return ((m.body()[0] & 0xff) << 8) | (m.body()[1] & 0xff);
            }
            if (m.type() == 'E') {
                throw new AssertionError("error instead of rows: " + m);
            }
        }
        throw new AssertionError("no RowDescription in " + PgWire.types(messages));
    }

    private static List<String> shapeRows(PreparedStatement ps, int columns) throws SQLException {
        ps.setInt(1, 1);
        List<String> rows = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            assertEquals(columns, rs.getMetaData().getColumnCount());
            while (rs.next()) {
                StringBuilder row = new StringBuilder();
                for (int i = 1; i <= columns; i++) {
                    row.append(i > 1 ? ":" : "").append(rs.getObject(i));
                }
                rows.add(row.toString());
            }
        }
        return rows;
    }

    /** The counters of the pool the sample tenants share (proxy under test only). */
    private static Optional<PoolStats> proxyStats() {
        if (!Targets.viaProxy()) {
            return Optional.empty();
        }
        return appDbStats(TestProxy.get());
    }

    private static Optional<PoolStats> appDbStats(PerseusService proxy) {
        return proxy.proxy().pools().pools().stream()
                // The fixture's own destination: other tests add pools for the same role under another host name.
                .filter(p -> p.destination().database().equals(TestPostgres.APP_DB)
                        && p.destination().user().equals(TestPostgres.APP_OWNER.name())
                        && p.destination().host().equals(Fixtures.backend().host())
                        && p.destination().port() == Fixtures.backend().port())
                .findFirst().map(BackendPool::stats);
    }
}
