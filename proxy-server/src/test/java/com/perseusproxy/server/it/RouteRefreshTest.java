package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A change to perseus_auth reaches a session that stays logged in (no new login reads the row): at once through
 * NOTIFY, and through the reload SIGHUP triggers. Periodic refresh is off in both, so nothing else could explain it.
 */
class RouteRefreshTest {

    static final String PREFIX = "rot_refresh_";
    static final String FIRST = "rot_refresh_first";
    static final String SECOND = "rot_refresh_second";

    @Test
    void notifyMovesAnOpenSessionToTheNewAccountAtItsNextTransaction() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's refresh is what is tested");
        Target tenant = setUp("n");
        RotationBed.installNotifyTrigger();
        try (PerseusService proxy = RotationBed.startProxy(2, 0);
             Connection c = at(tenant, proxy).connect()) {
            assertEquals(FIRST, currentUser(c));
            c.setAutoCommit(false);
            assertEquals(FIRST, currentUser(c));
            RotationBed.setBackend(PREFIX + "n", SECOND, "second-pw");
            RotationBed.sleep(1500);
            assertEquals(FIRST, currentUser(c), "the running transaction stays on its connection");
            c.commit();
            c.setAutoCommit(true);
            CredentialRotationDrillTest.waitUntil(() -> SECOND.equals(currentUserOrNull(c)), 5000,
                    "the next transaction runs as " + SECOND);
        } finally {
            RotationBed.deleteRows(PREFIX);
            RotationBed.dropNotifyTrigger();
        }
    }

    @Test
    void reloadMovesAnOpenSessionWithoutNotify() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's refresh is what is tested");
        Target tenant = setUp("r");
        RotationBed.dropNotifyTrigger();
        try (PerseusService proxy = RotationBed.startProxy(2, 0);
             Connection c = at(tenant, proxy).connect()) {
            assertEquals(FIRST, currentUser(c));
            RotationBed.setBackend(PREFIX + "r", SECOND, "second-pw");
            RotationBed.sleep(1500);
            assertEquals(FIRST, currentUser(c), "nothing re-read the row yet");
            proxy.reloadPoolSettings(ProxyConfig.parse("{ \"AuthDBSettings\": { \"AuthDBDSN\": "
                    + "\"postgres://x@127.0.0.1/x\" }, \"PoolSettings\": { \"MaxOpen\": 2 } }", Map.of()));
            CredentialRotationDrillTest.waitUntil(() -> SECOND.equals(currentUserOrNull(c)), 5000,
                    "after the reload transactions run as " + SECOND);
        } finally {
            RotationBed.deleteRows(PREFIX);
        }
    }

    private static Target setUp(String suffix) throws SQLException {
        RotationBed.createRole(FIRST, "first-pw");
        RotationBed.createRole(SECOND, "second-pw");
        RotationBed.upsertRow(PREFIX + suffix, Fixtures.TENANT_A.schema(), "refresh_user",
                EasyScrypt.hash("refresh-client-pw"), FIRST, "first-pw");
        return new Target("127.0.0.1", 0, PREFIX + suffix, "refresh_user", "refresh-client-pw",
                Fixtures.TENANT_A.schema());
    }

    private static Target at(Target t, PerseusService proxy) {
        return new Target(t.host(), proxy.port(), t.database(), t.user(), t.password(), t.schema());
    }

    private static String currentUser(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_user")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String currentUserOrNull(Connection c) {
        try {
            return currentUser(c);
        } catch (SQLException e) {
            throw new IllegalStateException("a transaction failed: " + e.getMessage(), e);
        }
    }
}
