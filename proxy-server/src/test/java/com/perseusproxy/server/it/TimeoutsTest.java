package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.server.PerseusService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The client-side timeouts (ClientSettings.IdleInTransactionTimeoutSecs, ClientIdleTimeoutSecs, QueryTimeoutSecs)
 * each fire with their SQLSTATE, and PoolSettings.ServerCheckDelaySecs replaces a dead idle backend unseen.
 */
class TimeoutsTest {

    private static PerseusService proxy(int maxOpen, String clientSettings, String extraPool) {
        return OpsProxy.start(OpsProxy.config("127.0.0.1:0", OpsProxy.authDsn(), maxOpen, extraPool,
                ", \"ClientSettings\": { " + clientSettings + " }"));
    }

    @Test
    void idleInTransactionClientIsClosedWith25P03AndNoLongerBlocksTheNextTenant() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's timeouts are what is tested");
        try (PerseusService proxy = proxy(1, "\"IdleInTransactionTimeoutSecs\": 1", "")) {
            Target a = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            Target b = Targets.viaProxy(Fixtures.TENANT_B, "127.0.0.1", proxy.port());
            String marker = Fixtures.body(Fixtures.TENANT_A, "idle-in-tx-" + System.nanoTime());
            try (Connection stuck = a.connect(); Connection next = b.connect()) {
                stuck.setAutoCommit(false);
                try (Statement st = stuck.createStatement()) {
                    st.execute("insert into notes(body) values ('" + marker + "')");
                }
                // The only backend is held by a silent transaction; the other tenant gets it after the timeout.
                long start = System.nanoTime();
                try (Statement st = next.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
                    rs.next();
                }
                long waitedMs = (System.nanoTime() - start) / 1_000_000;
                assertTrue(waitedMs < 5_000, "the next tenant waited " + waitedMs + " ms");
                SQLException e = assertThrows(SQLException.class, () -> {
                    try (Statement st = stuck.createStatement()) {
                        st.execute("select 1");
                    }
                });
                assertTrue(e.getSQLState().equals("25P03") || e.getSQLState().startsWith("08"),
                        e.getSQLState() + " " + e.getMessage());
            }
            // The transaction was rolled back, not committed by anyone.
            try (Connection check = a.connect(); Statement st = check.createStatement();
                 ResultSet rs = st.executeQuery("select count(*) from notes where body = '" + marker + "'")) {
                rs.next();
                assertEquals(0, rs.getInt(1));
            }
        }
    }

    @Test
    void idleInTransactionErrorReachesTheClientAs25P03() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's timeouts are what is tested");
        try (PerseusService proxy = proxy(2, "\"IdleInTransactionTimeoutSecs\": 1", "");
             PgWire wire = PgWire.open("127.0.0.1", proxy.port(), Duration.ofSeconds(10))) {
            wire.login(Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port()));
            wire.simpleQuery("begin");
            PgWire.Message error = wire.awaitErrorOrClose();
            assertNotNull(error, "an ErrorResponse before the close");
            assertEquals("25P03", error.sqlState(), error.toString());
            assertTrue(error.fields().get('M').contains("IdleInTransactionTimeoutSecs"), error.toString());
            assertTrue(wire.closedByServer());
        }
    }

    @Test
    void idleClientIsClosedWith57P05() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's timeouts are what is tested");
        try (PerseusService proxy = proxy(2, "\"ClientIdleTimeoutSecs\": 1", "");
             PgWire wire = PgWire.open("127.0.0.1", proxy.port(), Duration.ofSeconds(10))) {
            wire.login(Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port()));
            wire.simpleQuery("select 1"); // activity restarts the clock; silence afterwards ends the session
            long start = System.nanoTime();
            PgWire.Message error = wire.awaitErrorOrClose();
            long afterMs = (System.nanoTime() - start) / 1_000_000;
            assertNotNull(error, "an ErrorResponse before the close");
            assertEquals("57P05", error.sqlState(), error.toString());
            assertTrue(error.fields().get('M').contains("ClientIdleTimeoutSecs"), error.toString());
            assertTrue(afterMs >= 900 && afterMs < 5000, "closed after " + afterMs + " ms");
        }
    }

    @Test
    void longQueryIsCancelledWith57014AndTheSessionCarriesOn() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's timeouts are what is tested");
        try (PerseusService proxy = proxy(1, "\"QueryTimeoutSecs\": 1", "")) {
            Target a = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            try (Connection c = a.connect(); Statement st = c.createStatement()) {
                long start = System.nanoTime();
                SQLException e = assertThrows(SQLException.class, () -> st.execute("select pg_sleep(20)"));
                long tookMs = (System.nanoTime() - start) / 1_000_000;
                assertEquals("57014", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains("QueryTimeoutSecs"), e.getMessage());
                assertTrue(tookMs < 5_000, "cancelled after " + tookMs + " ms");
                try (ResultSet rs = st.executeQuery("select 41 + 1")) {
                    rs.next();
                    assertEquals(42, rs.getInt(1), "the session and its backend carry on");
                }
            }
        }
    }

    @Test
    void unresponsiveIdleBackendIsReplacedUnseen() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's liveness check is what is tested");
        assumeTrue(new java.io.File("/bin/kill").canExecute() || new java.io.File("/usr/bin/kill").canExecute(),
                "no kill command");
        try (PerseusService proxy = proxy(1, "", ", \"ServerCheckDelaySecs\": 0, \"ConnCreateTimeoutSecs\": 1")) {
            Target a = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            try (Connection c = a.connect(); Statement st = c.createStatement()) {
                int pid;
                try (ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
                // The idle backend stops answering without closing its socket (a hung host, a dropped route):
                // only a check before hand-out can tell.
                assumeTrue(signal(pid, "STOP"), "cannot stop the PostgreSQL backend process");
                try {
                    long start = System.nanoTime();
                    try (ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
                        rs.next();
                        assertTrue(rs.getInt(1) != pid, "a new backend serves the next transaction");
                    }
                    long tookMs = (System.nanoTime() - start) / 1_000_000;
                    assertTrue(tookMs < 5_000, "replaced after " + tookMs + " ms");
                } finally {
                    signal(pid, "CONT");
                }
            }
        }
    }

    private static boolean signal(int pid, String signal) throws Exception {
        return new ProcessBuilder("kill", "-" + signal, String.valueOf(pid)).inheritIO().start().waitFor() == 0;
    }
}
