package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Everyday pgjdbc use, once with the simple query protocol and once with the extended protocol. Each test uses its own
 * marker text, so tests never depend on each other's rows.
 */
class JdbcProtocolTest {

    private static final SampleTenant TENANT = Fixtures.TENANT_A;

    /** Opens a connection in the given pgjdbc query mode ("simple" or "extended"). */
    private static Connection connect(String mode) throws SQLException {
        return Targets.forTenant(TENANT).connect("preferQueryMode", mode);
    }

    private static String marker() {
        return Fixtures.body(TENANT, "jdbc-" + UUID.randomUUID());
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void queriesRunInTheTenantsSchema(String mode) throws SQLException {
        try (Connection c = connect(mode); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select current_schema(), current_setting('search_path')")) {
                rs.next();
                assertEquals(TENANT.schema(), rs.getString(1));
            }
            try (ResultSet rs = st.executeQuery("select body from notes order by id")) {
                int rows = 0;
                while (rs.next()) {
                    assertTrue(rs.getString(1).startsWith(TENANT.schema() + ":"), rs.getString(1));
                    rows++;
                }
                assertTrue(rows >= 3, "the sample rows are visible");
            }
            // Parameters, types and NULLs survive the trip.
            try (PreparedStatement ps = c.prepareStatement("select ?::int + 1, ?::text, ?::bytea, ?::text")) {
                ps.setInt(1, 41);
                ps.setString(2, "zażółć ✓");
                ps.setBytes(3, new byte[] {0, 1, (byte) 0xff});
                ps.setNull(4, java.sql.Types.VARCHAR);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(42, rs.getInt(1));
                    assertEquals("zażółć ✓", rs.getString(2));
                    assertArrayEquals(new byte[] {0, 1, (byte) 0xff}, rs.getBytes(3));
                    assertEquals(null, rs.getString(4));
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void insertUpdateDeleteInAutocommit(String mode) throws SQLException {
        String body = marker();
        try (Connection c = connect(mode)) {
            try (PreparedStatement ps = c.prepareStatement("insert into notes (body) values (?)")) {
                ps.setString(1, body);
                assertEquals(1, ps.executeUpdate());
            }
            try (PreparedStatement ps = c.prepareStatement("update notes set body = ? || ' (edited)' where body = ?")) {
                ps.setString(1, body);
                ps.setString(2, body);
                assertEquals(1, ps.executeUpdate());
            }
            assertEquals(1, count(c, body + " (edited)"));
            try (PreparedStatement ps = c.prepareStatement("delete from notes where body like ?")) {
                ps.setString(1, body + "%");
                assertEquals(1, ps.executeUpdate());
            }
            assertEquals(0, count(c, body + " (edited)"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void commitKeepsAndRollbackDiscards(String mode) throws SQLException {
        String kept = marker();
        String discarded = marker();
        try (Connection c = connect(mode)) {
            c.setAutoCommit(false);
            insert(c, discarded);
            assertEquals(1, count(c, discarded), "visible inside its own transaction");
            c.rollback();
            insert(c, kept);
            c.commit();
            c.setAutoCommit(true);
            assertEquals(0, count(c, discarded));
            assertEquals(1, count(c, kept));
        }
        try (Connection other = connect(mode)) {
            assertEquals(1, count(other, kept), "a committed row is visible to a new session");
            delete(other, kept);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void errorInsideTransactionThenRollback(String mode) throws SQLException {
        String body = marker();
        try (Connection c = connect(mode); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            insert(c, body);
            SQLException divide = assertThrows(SQLException.class, () -> st.executeQuery("select 1/0"));
            assertEquals("22012", divide.getSQLState());
            SQLException aborted = assertThrows(SQLException.class, () -> st.executeQuery("select 1"));
            assertEquals("25P02", aborted.getSQLState(), "the transaction is aborted until it ends");
            c.rollback();
            c.setAutoCommit(true);
            assertEquals(0, count(c, body), "the insert before the error was rolled back");
            SQLException missing = assertThrows(SQLException.class, () -> st.executeQuery("select * from no_such"));
            assertEquals("42P01", missing.getSQLState(), "an error outside a transaction");
            assertEquals(1, queryInt(c, "select 1"), "the session works afterwards");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void emptyQueries(String mode) throws SQLException {
        try (Connection c = connect(mode); Statement st = c.createStatement()) {
            assertFalse(st.execute(""), "an empty query has no result set");
            assertFalse(st.execute(";"));
            c.setAutoCommit(false);
            assertFalse(st.execute(""), "an empty query inside a transaction");
            assertEquals(1, queryInt(c, "select 1"));
            c.commit();
            c.setAutoCommit(true);
            assertEquals(1, queryInt(c, "select 1"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void batchesArePipelined(String mode) throws SQLException {
        String prefix = marker();
        int n = 200;
        try (Connection c = connect(mode)) {
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("insert into notes (body) values (?)")) {
                for (int i = 0; i < n; i++) {
                    ps.setString(1, prefix + " #" + i);
                    ps.addBatch();
                }
                int[] counts = ps.executeBatch();
                assertEquals(n, counts.length);
                for (int count : counts) {
                    assertTrue(count == 1 || count == Statement.SUCCESS_NO_INFO, "update count " + count);
                }
            }
            // A statement batch mixing DML and a DO block.
            try (Statement st = c.createStatement()) {
                st.addBatch("update notes set body = body || '!' where body like '" + prefix + " #1%'");
                st.addBatch("do $$ begin perform 1; end $$");
                st.addBatch("delete from notes where body = '" + prefix + " #0'");
                int[] counts = st.executeBatch();
                assertEquals(3, counts.length);
                assertEquals(1, counts[2]);
            }
            c.commit();
            c.setAutoCommit(true);
            try (PreparedStatement ps = c.prepareStatement("select count(*) from notes where body like ?")) {
                ps.setString(1, prefix + " #%");
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertEquals(n - 1, rs.getInt(1));
                }
            }
            delete(c, prefix + " #%");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void noticeArrivesAsWarning(String mode) throws SQLException {
        try (Connection c = connect(mode); Statement st = c.createStatement()) {
            st.execute("do $$ begin raise notice 'hello from %', current_schema(); end $$");
            SQLWarning warning = st.getWarnings();
            assertNotNull(warning, "RAISE NOTICE reaches the client");
            assertEquals("hello from " + TENANT.schema(), warning.getMessage());
            assertEquals("00000", warning.getSQLState());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void listenAndNotifyInsideOneTransaction(String mode) throws SQLException {
        // LISTEN only lasts as long as the session; under transaction pooling that is one transaction, so the whole
        // exchange happens in one, and the notification arrives when it commits.
        String channel = "it_" + UUID.randomUUID().toString().replace("-", "");
        try (Connection c = connect(mode); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("listen " + channel);
            st.execute("notify " + channel + ", 'payload-1'");
            st.execute("select pg_notify('" + channel + "', 'payload-2')");
            c.commit();
            List<String> payloads = new ArrayList<>();
            long deadline = System.currentTimeMillis() + 5_000;
            while (payloads.size() < 2 && System.currentTimeMillis() < deadline) {
                PGNotification[] got = c.unwrap(PGConnection.class).getNotifications(500);
                if (got != null) {
                    for (PGNotification n : got) {
                        assertEquals(channel, n.getName());
                        payloads.add(n.getParameter());
                    }
                }
            }
            assertEquals(List.of("payload-1", "payload-2"), payloads);
            st.execute("unlisten *");
            c.commit();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void severalResultSetsFromOneStatement(String mode) throws SQLException {
        try (Connection c = connect(mode); Statement st = c.createStatement()) {
            assertTrue(st.execute("select 1; select 'two'; select current_schema()"));
            List<String> values = new ArrayList<>();
            do {
                try (ResultSet rs = st.getResultSet()) {
                    rs.next();
                    values.add(rs.getString(1));
                }
            } while (st.getMoreResults());
            assertEquals(List.of("1", "two", TENANT.schema()), values);
        }
    }

    // ---- helpers

    private static void insert(Connection c, String body) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("insert into notes (body) values (?)")) {
            ps.setString(1, body);
            ps.executeUpdate();
        }
    }

    private static void delete(Connection c, String bodyPattern) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("delete from notes where body like ?")) {
            ps.setString(1, bodyPattern);
            ps.executeUpdate();
        }
    }

    private static int count(Connection c, String body) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("select count(*) from notes where body = ?")) {
            ps.setString(1, body);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    private static int queryInt(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
