package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.perseusproxy.server.it.TestPostgres.Role;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The backend roles the proxy must be able to log in as, each with a different pg_hba method. These tests always
 * connect straight to PostgreSQL (never through {@link Targets}): they prove the fixture the proxy's backend-login
 * tests rely on. The raw-wire check pins down which authentication request the server really makes, so a proxy test
 * using {@code app_md5} really exercises md5 (PostgreSQL silently upgrades md5 to SCRAM for SCRAM-stored passwords).
 */
class BackendAuthMethodsTest {

    /** Role, and the authentication request code PostgreSQL must send it (10 SASL, 5 MD5, 3 cleartext). */
    static List<Arguments> roles() {
        return List.of(
                Arguments.of(TestPostgres.APP_OWNER, 10),
                Arguments.of(TestPostgres.APP_MD5, 5),
                Arguments.of(TestPostgres.APP_PLAIN, 3));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roles")
    void pgjdbcLogsInWithThePassword(Role role, int ignoredAuthRequest) throws SQLException {
        try (Connection c = asRole(role).connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_user, current_schema()")) {
            rs.next();
            assertEquals(role.name(), rs.getString(1));
            assertEquals(Fixtures.TENANT_A.schema(), rs.getString(2));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roles")
    void serverAsksForTheExpectedMethod(Role role, int authRequest) {
        Target target = asRole(role);
        try (PgWire wire = PgWire.open(target)) {
            PgWire.Login login = wire.login(target);
            assertEquals(authRequest, login.authRequests().get(0), "first authentication request");
            assertEquals(0, login.authRequests().get(login.authRequests().size() - 1), "AuthenticationOk");
            assertEquals(List.of(role.name()), wire.queryColumn("select current_user"));
            wire.terminate();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("roles")
    void wrongPasswordIsRefusedWith28P01(Role role, int ignoredAuthRequest) {
        SQLException e = assertThrows(SQLException.class,
                () -> asRole(role).withPassword("not-" + role.password()).connect().close());
        assertEquals("28P01", e.getSQLState());
    }

    /** Straight to PostgreSQL as the role, in the app database with tenant A's schema. */
    private static Target asRole(Role role) {
        return Targets.direct(Fixtures.TENANT_A).withUser(role.name()).withPassword(role.password());
    }
}
