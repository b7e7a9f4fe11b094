package com.perseusproxy.server.it;

import static com.perseusproxy.server.it.DriverTenants.A;
import static com.perseusproxy.server.it.DriverTenants.B;
import static com.perseusproxy.server.it.DriverTenants.POOL_SIZE;
import static com.perseusproxy.server.it.DriverTenants.TIMEOUT_MS;
import static com.perseusproxy.server.it.DriverTenants.expectedItem;
import static com.perseusproxy.server.it.DriverTenants.itemIds;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.StringReader;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * pgjdbc behind HikariCP, as a Spring Boot application runs it: pgjdbc's defaults (extended protocol, named
 * server-side statements from the fifth execution, {@code prepareThreshold=5}), a pool of 20 per tenant over the
 * proxy's MaxOpen 5, the schema in {@code currentSchema}, against the driver tenants (see {@link DriverTenants}).
 */
class DriverJdbcHikariTest {

    private static final String ITEM_SQL = "select * from items where id = ?";
    private static final Map<SampleTenant, HikariDataSource> POOLS = new java.util.LinkedHashMap<>();

    @BeforeAll
    static void pools() {
        for (SampleTenant t : List.of(A, B)) {
            HikariConfig cfg = new HikariConfig();
            cfg.setJdbcUrl(DriverTenants.target(t).jdbcUrlWithNamedStatements("ApplicationName", "drv-hikari"));
            cfg.setMaximumPoolSize(POOL_SIZE);
            cfg.setMinimumIdle(POOL_SIZE);
            cfg.setConnectionTimeout(30_000);
            cfg.setPoolName("drv-" + t.schema());
            POOLS.put(t, new HikariDataSource(cfg));
        }
    }

    @AfterAll
    static void closePools() {
        POOLS.values().forEach(HikariDataSource::close);
        POOLS.clear();
    }

    static List<String> row(ResultSet rs) throws SQLException {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            values.add(rs.getString(i));
        }
        return values;
    }

    static void checkItem(SampleTenant t, PreparedStatement ps, int id) throws SQLException {
        ps.setInt(1, id);
        try (ResultSet rs = ps.executeQuery()) {
            assertTrue(rs.next(), t + " item " + id + " has a row");
            assertEquals(expectedItem(t, id), row(rs), t + " item " + id);
        }
    }

    @Test
    void simpleProtocolQueries() throws SQLException {
        for (SampleTenant t : List.of(A, B)) {
            try (Connection c = DriverManager.getConnection(DriverTenants.target(t)
                    .jdbcUrlWithNamedStatements("preferQueryMode", "simple"));
                 Statement st = c.createStatement()) {
                assertTrue(st.execute("select 1; select current_schema(), count(*) from items"));
                assertTrue(st.getMoreResults());
                try (ResultSet rs = st.getResultSet()) {
                    rs.next();
                    assertEquals(List.of(t.schema(), String.valueOf(DriverTenants.ITEMS)), row(rs));
                }
                try (PreparedStatement ps = c.prepareStatement(ITEM_SQL)) {
                    checkItem(t, ps, 3);
                }
            }
        }
    }

    @Test
    void parameterizedAndNamedPreparedStatementsInterleavedAcrossTenants() throws SQLException {
        // Thirty executions per tenant: pgjdbc switches to a named statement (S_n) at the fifth, with the same SQL
        // text in both tenants; autocommit, so every execution is its own transaction on whichever backend.
        try (Connection a = POOLS.get(A).getConnection(); Connection b = POOLS.get(B).getConnection();
             PreparedStatement pa = a.prepareStatement(ITEM_SQL); PreparedStatement pb = b.prepareStatement(ITEM_SQL)) {
            for (int id : itemIds(30, 3)) {
                checkItem(A, pa, id);
                checkItem(B, pb, id);
            }
            assertTrue(pa.unwrap(org.postgresql.PGStatement.class).isUseServerPrepare(),
                    "pgjdbc uses a named server-side statement by now");
        }
    }

    @Test
    void commitAndRollback() throws SQLException {
        try (Connection c = POOLS.get(A).getConnection(); Statement st = c.createStatement()) {
            st.execute("drop table if exists hikari_scratch; create table hikari_scratch (id int, note text)");
            c.setAutoCommit(false);
            st.execute("insert into hikari_scratch values (1, 'committed')");
            c.commit();
            st.execute("insert into hikari_scratch values (2, 'rolled back')");
            c.rollback();
            c.setAutoCommit(true);
            try (ResultSet rs = st.executeQuery("select string_agg(id || ':' || note, ',') from hikari_scratch")) {
                rs.next();
                assertEquals("1:committed", rs.getString(1));
            }
        }
    }

    @Test
    void errorInTransactionThenRecovery() throws SQLException {
        try (Connection c = POOLS.get(B).getConnection(); Statement st = c.createStatement();
             PreparedStatement ps = c.prepareStatement(ITEM_SQL)) {
            c.setAutoCommit(false);
            SQLException e = assertThrows(SQLException.class, () -> st.execute("select 1 / 0"));
            assertEquals("22012", e.getSQLState());
            assertEquals("25P02", assertThrows(SQLException.class, () -> st.execute("select 1")).getSQLState());
            c.rollback();
            checkItem(B, ps, 7);
            c.commit();
            c.setAutoCommit(true);
            assertEquals("42P01", assertThrows(SQLException.class,
                    () -> st.execute("select * from no_such_table")).getSQLState());
            checkItem(B, ps, 8);
        }
    }

    @Test
    void hundredThousandRowsAtOnceAndWithACursor() throws SQLException {
        try (Connection c = POOLS.get(A).getConnection();
             PreparedStatement ps = c.prepareStatement("select g, 'row-' || g from generate_series(1, ?) g")) {
            ps.setInt(1, 100_000);
            long[] at = sum(ps);
            assertEquals(100_000, at[0]);
            assertEquals(100_000L * 100_001 / 2, at[1]);
            // fetchSize in a transaction: a portal read 1000 rows at a time (Execute with a row limit).
            c.setAutoCommit(false);
            ps.setFetchSize(1000);
            long[] cursor = sum(ps);
            c.commit();
            c.setAutoCommit(true);
            assertEquals(100_000, cursor[0]);
            assertEquals(100_000L * 100_001 / 2, cursor[1]);
        }
    }

    private static long[] sum(PreparedStatement ps) throws SQLException {
        long count = 0;
        long total = 0;
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                count++;
                total += rs.getLong(1);
                assertEquals("row-" + rs.getLong(1), rs.getString(2));
            }
        }
        return new long[] {count, total};
    }

    @Test
    void copyInAndOut() throws Exception {
        try (Connection c = POOLS.get(B).getConnection(); Statement st = c.createStatement()) {
            st.execute("drop table if exists hikari_copy; create table hikari_copy (id int, note text)");
            StringBuilder data = new StringBuilder();
            for (int i = 1; i <= 100_000; i++) {
                data.append(i).append("\tnote ").append(i).append('\n');
            }
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            assertEquals(100_000, copy.copyIn("copy hikari_copy (id, note) from stdin", new StringReader(data.toString())));
            StringWriter out = new StringWriter();
            assertEquals(100_000, copy.copyOut("copy (select id, note from hikari_copy order by id) to stdout", out));
            assertEquals(data.toString(), out.toString());
        }
    }

    @Test
    void batches() throws SQLException {
        for (SampleTenant t : List.of(A, B)) {
            try (Connection c = POOLS.get(t).getConnection(); Statement st = c.createStatement()) {
                st.execute("drop table if exists hikari_batch; create table hikari_batch (id int, note text)");
                try (PreparedStatement ins = c.prepareStatement("insert into hikari_batch values (?, ?)")) {
                    for (int i = 1; i <= 1000; i++) {
                        ins.setInt(1, i);
                        ins.setString(2, "b" + i);
                        ins.addBatch();
                    }
                    int[] counts = ins.executeBatch();
                    assertEquals(1000, counts.length);
                }
                try (ResultSet rs = st.executeQuery("select count(*), sum(id) from hikari_batch")) {
                    rs.next();
                    assertEquals(List.of("1000", "500500"), row(rs), t + " rows of the batch");
                }
                try (PreparedStatement ps = c.prepareStatement(ITEM_SQL)) {
                    checkItem(t, ps, 4);
                }
            }
        }
    }

    /** pgjdbc's usual way: {@code options=-c statement_timeout=300} in the URL. */
    @Test
    void statementTimeoutFromOptions() throws SQLException {
        String url = DriverTenants.target(A).jdbcUrlWithNamedStatements("options", "-c statement_timeout=" + TIMEOUT_MS);
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("show statement_timeout")) {
                rs.next();
                assertEquals(TIMEOUT_MS + "ms", rs.getString(1), "SHOW statement_timeout");
            }
            long start = System.nanoTime();
            try {
                st.execute("select pg_sleep(2)");
                fail("pg_sleep(2) ran to completion (" + (System.nanoTime() - start) / 1_000_000
                        + " ms): statement_timeout=" + TIMEOUT_MS + " from options was lost");
            } catch (SQLException e) {
                assertEquals("57014", e.getSQLState(), e.getMessage());
            }
            long tookMs = (System.nanoTime() - start) / 1_000_000;
            assertTrue(tookMs < 1500, "canceled after " + tookMs + " ms");
            try (PreparedStatement ps = c.prepareStatement(ITEM_SQL)) {
                checkItem(A, ps, 9);
            }
        }
    }

    @Test
    void poolOfTwentyPerTenantOverMaxOpenFive() throws Exception {
        ExecutorService exec = Executors.newFixedThreadPool(2 * POOL_SIZE);
        try {
            List<Future<Integer>> jobs = new ArrayList<>();
            for (int w = 0; w < POOL_SIZE; w++) {
                for (SampleTenant t : List.of(A, B)) {
                    int worker = w;
                    jobs.add(exec.submit(() -> {
                        int n = 0;
                        for (int id : itemIds(15, worker)) {
                            try (Connection c = POOLS.get(t).getConnection();
                                 PreparedStatement ps = c.prepareStatement(ITEM_SQL);
                                 Statement st = c.createStatement()) {
                                c.setAutoCommit(false);
                                try (ResultSet rs = st.executeQuery("select current_schema()")) {
                                    rs.next();
                                    assertEquals(t.schema(), rs.getString(1));
                                }
                                checkItem(t, ps, id);
                                st.execute("select pg_sleep(0.002)");
                                c.commit();
                                c.setAutoCommit(true);
                                checkItem(t, ps, id);
                                n++;
                            }
                        }
                        return n;
                    }));
                }
            }
            int total = 0;
            for (Future<Integer> f : jobs) {
                total += f.get(120, TimeUnit.SECONDS);
            }
            assertEquals(2 * POOL_SIZE * 15, total);
        } finally {
            exec.shutdownNow();
        }
    }
}
