package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A statement_timeout a driver sets - as a startup parameter (pgjdbc {@code options=-c statement_timeout=300},
 * node-postgres's {@code statement_timeout}) or with a session SET (r2dbc's {@code setStatementTimeout()}) - holds
 * through the proxy as it does on PostgreSQL: the query is cancelled with 57014. On a pool of one backend, with a
 * client of another tenant in between each time, so the backend is reset and the setting must be applied again; and
 * it never reaches another client of the same backend. Every test also passes against PostgreSQL directly
 * ({@code -Dperseus.it.direct=true}).
 */
class TrackedSettingsTest {

    private static final String TIMEOUT_300 = "-c statement_timeout=300";

    private static PerseusService proxy;

    @BeforeAll
    static void startPoolOfOne() {
        if (!Boolean.getBoolean("perseus.it.direct")) {
            proxy = TestProxy.startDedicated(1);
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void startupStatementTimeoutCancelsAfterAnotherTenantUsedTheBackend() throws SQLException {
        try (Connection a = connect(Fixtures.TENANT_A, "options", TIMEOUT_300);
             Connection b = connect(Fixtures.TENANT_B)) {
            assertEquals("300ms", show(a, "statement_timeout"));
            assertEquals("0", show(b, "statement_timeout"), "the other tenant's session has its own");
            assertTimesOut(a);
            assertEquals("0", show(b, "statement_timeout"));
            sleepSucceeds(b);
            assertTimesOut(a);
        }
    }

    @Test
    void startupTimeoutAlsoWorksWithTheDoubleDashSpellingAndAsAPlainStartupParameter() throws SQLException {
        try (Connection a = connect(Fixtures.TENANT_A, "options", "--statement-timeout=300");
             Connection b = connect(Fixtures.TENANT_B)) {
            show(b, "statement_timeout");
            assertTimesOut(a);
        }
    }

    @Test
    void sessionSetFollowsTheClientThroughSimpleAndExtendedProtocol() throws SQLException {
        for (String mode : new String[] {"simple", "extended"}) {
            try (Connection a = connect(Fixtures.TENANT_A, "preferQueryMode", mode);
                 Connection sameTenant = connect(Fixtures.TENANT_A);
                 Connection b = connect(Fixtures.TENANT_B)) {
                execute(a, "SET statement_timeout = 300");
                show(b, "statement_timeout");
                assertTimesOut(a);
                // A client of the same tenant gets the backend without a reset: a's setting must not stay for it.
                assertEquals("0", show(sameTenant, "statement_timeout"), mode);
                sleepSucceeds(sameTenant);
                assertTimesOut(a);

                execute(a, "RESET statement_timeout");
                show(b, "statement_timeout");
                sleepSucceeds(a);
            }
        }
    }

    @Test
    void setLocalAndARolledBackSetDoNotStick() throws SQLException {
        try (Connection a = connect(Fixtures.TENANT_A); Connection b = connect(Fixtures.TENANT_B)) {
            a.setAutoCommit(false);
            execute(a, "SET LOCAL statement_timeout = 300");
            a.commit();
            execute(a, "SET statement_timeout = 300");
            a.rollback();
            a.setAutoCommit(true);
            show(b, "statement_timeout");
            assertEquals("0", show(a, "statement_timeout"));
            sleepSucceeds(a);
        }
    }

    @Test
    void lockTimeoutFromStartupIsCarriedToo() throws SQLException {
        try (Connection a = connect(Fixtures.TENANT_A, "options", "-c lock_timeout=1s -c work_mem=8MB");
             Connection b = connect(Fixtures.TENANT_B)) {
            show(b, "lock_timeout");
            assertEquals("1s", show(a, "lock_timeout"));
            assertEquals("8MB", show(a, "work_mem"));
            assertEquals("0", show(b, "lock_timeout"));
        }
    }

    @Test
    void startupParametersThatAreNotCarriedAreNamedOnceAtLoginWithoutTheirValues() throws SQLException {
        if (proxy == null) {
            return; // the proxy's own log
        }
        try (CapturedLogs logs = new CapturedLogs();
             Connection a = connect(Fixtures.TENANT_A, "options", "-c geqo=off -c myapp.token=hunter2-value")) {
            show(a, "geqo");
            List<String> lines = logs.lines().stream().filter(l -> l.contains("not carried")).toList();
            assertEquals(1, lines.size(), lines.toString());
            assertTrue(lines.get(0).contains("dropped: geqo, myapp.token"), lines.get(0));
            logs.assertNoneContains(List.of("hunter2-value"));
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static Connection connect(SampleTenant tenant, String... extraParams) throws SQLException {
        Target target = proxy == null ? Targets.direct(tenant) : Targets.viaProxy(tenant, "127.0.0.1", proxy.port());
        return target.connect(extraParams);
    }

    private static void assertTimesOut(Connection c) {
        long started = System.nanoTime();
        SQLException error = assertThrows(SQLException.class, () -> execute(c, "select pg_sleep(2)"));
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertEquals("57014", error.getSQLState(), error.getMessage());
        assertTrue(millis < 1800, "cancelled by the timeout, not after the sleep: " + millis + " ms");
    }

    private static void sleepSucceeds(Connection c) throws SQLException {
        execute(c, "select pg_sleep(0.5)");
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static String show(Connection c, String name) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("show " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
