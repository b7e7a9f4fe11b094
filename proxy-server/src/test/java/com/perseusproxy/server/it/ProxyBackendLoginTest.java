package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proxy's own backend logins: SCRAM-SHA-256, md5 and cleartext (pg_hba methods set per role by
 * {@link TestPostgres}), and a destination whose stored password is wrong.
 */
class ProxyBackendLoginTest {

    @ParameterizedTest
    @ValueSource(strings = {"app_owner", "app_md5", "app_plain"})
    void tenantRoutedToRoleLogsInWithItsMethod(String role) throws SQLException {
        assumeTrue(Targets.viaProxy(), "the proxy's backend login is what is tested");
        TestPostgres.Role backendRole = switch (role) {
            case "app_md5" -> TestPostgres.APP_MD5;
            case "app_plain" -> TestPostgres.APP_PLAIN;
            default -> TestPostgres.APP_OWNER;
        };
        SampleTenant tenant = new SampleTenant("via_" + role, Fixtures.TENANT_A.schema(), "user_" + role, "pw-" + role);
        install(tenant, backendRole.password(), backendRole.name());
        try (Connection c = Targets.viaProxy(tenant, "127.0.0.1", TestProxy.port()).connect();
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_user, current_schema(), count(*) from notes")) {
            rs.next();
            assertEquals(role, rs.getString(1));
            assertEquals(Fixtures.TENANT_A.schema(), rs.getString(2));
            assertTrue(rs.getLong(3) > 0);
        }
    }

    @Test
    void wrongBackendPasswordGivesAClearErrorWithoutTheSecret() throws SQLException {
        assumeTrue(Targets.viaProxy(), "the proxy's backend login is what is tested");
        String wrong = "not-the-backend-password-" + System.nanoTime();
        SampleTenant tenant = new SampleTenant("via_wrong_backend_pw", Fixtures.TENANT_A.schema(), "user_wrong",
                "pw-wrong");
        installUnpooled(tenant, wrong, TestPostgres.APP_OWNER.name());
        SQLException e = assertThrows(SQLException.class,
                () -> Targets.viaProxy(tenant, "127.0.0.1", TestProxy.port()).connect().close());
        assertEquals("08004", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("dest_pass_enc"), e.getMessage());
        assertFalse(e.getMessage().contains(wrong), "the error repeats the backend password");
        assertFalse(e.getMessage().contains(tenant.password()), "the error repeats the client password");
    }

    /** A perseus_auth row for the tenant pointing at the shared PostgreSQL as the given role. */
    static void install(SampleTenant tenant, String backendPassword, String role) throws SQLException {
        install(tenant, backendPassword, role, Fixtures.postgres().host());
    }

    /**
     * The same, but naming the server as {@code localhost}: a destination no other test uses, so no pool already
     * holds connections logged in with the right password (and resolving the name exercises the DNS path).
     */
    static void installUnpooled(SampleTenant tenant, String backendPassword, String role) throws SQLException {
        install(tenant, backendPassword, role, "localhost");
    }

    private static void install(SampleTenant tenant, String backendPassword, String role, String host)
            throws SQLException {
        TestPostgres pg = Fixtures.postgres();
        Backend backend = new Backend(host, pg.port(), TestPostgres.APP_DB, role, backendPassword);
        try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB)) {
            SampleDatabase.upsertTenant(auth, tenant, backend, Fixtures.hashPassword(tenant.password()),
                    Fixtures.encryptBackendPassword(backendPassword));
        }
    }
}
