package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Through the proxy with pgjdbc: a second login with the same password is a verified-login cache hit (no scrypt),
 * and once the row's source_pass_hashed changes the old password is refused at the next login.
 */
class VerifiedLoginCacheLoginTest {

    private static final SampleTenant TENANT =
            new SampleTenant("cachedb", "login_cache", "carol", "carol-secret-7");
    // Its own source database, so the fixture's appdb rows stay exactly the fixture's (SampleDatabaseTest counts them).
    private static final String NEW_PASSWORD = "carol-secret-8";

    @Test
    void secondLoginIsACacheHitAndAChangedHashRefusesTheOldPassword() throws Exception {
        TestPostgres pg = Fixtures.postgres();
        try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB);
             Connection app = pg.superuserConnection(TestPostgres.APP_DB)) {
            SampleDatabase.createTenantSchema(app, TENANT.schema(), Fixtures.backend().role());
            upsert(auth, TENANT.password());
        }
        try (PerseusService proxy = TestProxy.startDedicated(2)) {
            assertEquals(TENANT.schema(), currentSchema(proxy, TENANT.password()));
            assertEquals(1, proxy.authenticator().hashChecks());
            assertEquals(TENANT.schema(), currentSchema(proxy, TENANT.password()));
            assertEquals(1, proxy.authenticator().hashChecks(), "the second login ran scrypt");
            assertEquals(1, proxy.authenticator().verifiedLogins().hits());

            try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB)) {
                upsert(auth, NEW_PASSWORD);
            }
            SQLException refused = assertThrows(SQLException.class, () -> currentSchema(proxy, TENANT.password()));
            assertEquals("28P01", refused.getSQLState());
            assertEquals(TENANT.schema(), currentSchema(proxy, NEW_PASSWORD));
            assertEquals(3, proxy.authenticator().hashChecks());
        } finally {
            pg.execute(TestPostgres.AUTH_DB, "DELETE FROM perseus_auth WHERE source_db = 'cachedb'");
        }
    }

    private static void upsert(Connection auth, String password) throws SQLException {
        SampleDatabase.upsertTenant(auth, TENANT, Fixtures.backend(), Fixtures.hashPassword(password),
                Fixtures.encryptBackendPassword(Fixtures.backend().password()));
    }

    private static String currentSchema(PerseusService proxy, String password) throws SQLException {
        String url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + TENANT.sourceDb()
                + "?currentSchema=" + TENANT.schema();
        try (Connection c = DriverManager.getConnection(url, TENANT.user(), password);
             Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select current_schema()")) {
            r.next();
            return r.getString(1);
        }
    }
}
