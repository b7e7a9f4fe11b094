package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * Every refused login answers 28P01 (invalid_password), whatever was wrong, so a client cannot learn which tenants or
 * users exist; and no error message repeats the password it was given.
 */
class CredentialsTest {

    private final Target tenantA = Targets.forTenant(Fixtures.TENANT_A);

    @Test
    void wrongPassword() {
        assertRefused(tenantA.withPassword("wrong-" + tenantA.password()));
    }

    @Test
    void unknownUser() {
        assertRefused(tenantA.withUser("nobody_" + System.nanoTime()));
    }

    @Test
    void unknownTenant() {
        // Through the proxy: no perseus_auth row for (appdb, no_such_tenant). Straight to PostgreSQL the schema does
        // not matter at login, so the unknown user is what fails there.
        assertRefused(tenantA.withSchema("no_such_tenant").withUser("nobody_" + System.nanoTime()));
    }

    @Test
    void unknownDatabase() {
        // Through the proxy, valid tenant credentials with a database that has no perseus_auth row are refused.
        // PostgreSQL would accept them and then say 3D000, so straight to it the password is wrong as well.
        Target target = tenantA.withDatabase("no_such_db");
        assertRefused(Targets.viaProxy() ? target : target.withPassword("wrong-" + target.password()));
    }

    @Test
    void wrongUserForTheSchema() {
        assumeTrue(Targets.viaProxy(), "PostgreSQL does not tie a user to a schema; this is a proxy check"
                + " (Perseus never compared the startup user with source_user)");
        Target tenantB = Targets.forTenant(Fixtures.TENANT_B);
        // Tenant B's valid credentials, but tenant A's schema.
        assertRefused(tenantA.withUser(tenantB.user()).withPassword(tenantB.password()));
    }

    private static void assertRefused(Target target) {
        SQLException e = assertThrows(SQLException.class, () -> target.connect().close());
        assertEquals("28P01", e.getSQLState(), e.getMessage());
        assertFalse(String.valueOf(e.getMessage()).contains(target.password()), "the message repeats the password");
    }
}
