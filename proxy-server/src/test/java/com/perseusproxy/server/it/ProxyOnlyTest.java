package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Behaviour only the proxy has, so these tests are skipped while {@link Targets} points at PostgreSQL (each says why)
 * and run as soon as it points at the proxy. Proxy checks elsewhere: {@code CredentialsTest.wrongUserForTheSchema}.
 */
class ProxyOnlyTest {

    @BeforeEach
    void onlyThroughTheProxy() {
        assumeTrue(Targets.viaProxy(), "proxy-only behaviour; Targets.forTenant points at PostgreSQL");
    }

    /**
     * Go's lib/pq (Perseus's own clients) sends unknown DSN parameters as startup parameters, so Perseus tenants name
     * their schema with {@code schema_search_path}. PostgreSQL itself rejects that parameter (FATAL 42704).
     */
    @Test
    void schemaSearchPathStartupParameter() {
        Target target = Targets.forTenant(Fixtures.TENANT_A);
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", target.user());
        params.put("database", target.database());
        params.put("schema_search_path", Fixtures.TENANT_A.schema());
        try (PgWire wire = PgWire.open(target)) {
            wire.login(target, PgWire.PROTOCOL_3_0, params);
            assertEquals(List.of(Fixtures.TENANT_A.schema()), wire.queryColumn("select current_schema()"));
            wire.terminate();
        }
    }

    /**
     * A tenant that changes search_path for its session never moves anyone else's transaction: a backend that changes
     * tenant always gets the full reset and the new tenant's schema. The tenant's own visible changes (a SET or RESET
     * command tag) are repaired at its next transaction too. An invisible one (set_config inside a SELECT) may be found
     * by the same tenant's next transaction on that backend: ordinary transaction pooling, documented in the README,
     * so only tenant B is checked after it. (Straight to PostgreSQL a session SET rightly persists.)
     */
    @Test
    void sessionSearchPathChangesDoNotOutliveTheTransaction() throws SQLException {
        try (Connection a = Targets.forTenant(Fixtures.TENANT_A).connect();
             Connection b = Targets.forTenant(Fixtures.TENANT_B).connect();
             Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
            List<String> changes = List.of("set search_path = tenant_b", "select set_config('search_path',"
                    + " 'tenant_b', false)", "reset search_path", "set search_path = public");
            for (int i = 0; i < 40; i++) {
                String change = changes.get(i % changes.size());
                sa.execute(change);
                if (!change.contains("set_config")) {
                    assertEquals(Fixtures.TENANT_A.schema(), schema(sa), "tenant A's next transaction, round " + i);
                }
                assertEquals(Fixtures.TENANT_B.schema(), schema(sb), "tenant B, round " + i);
            }
        }
    }

    /**
     * A client password rotated in perseus_auth works without a restart, while a session opened with the old password
     * keeps working. (Whether the old password stays valid for a grace period is the product's choice, so it is not
     * checked here.)
     */
    @Test
    void rotatedClientPasswordWorksWithoutRestart() throws Exception {
        SampleTenant tenant = Fixtures.TENANT_B;
        Target old = Targets.forTenant(tenant);
        Target rotated = old.withPassword(tenant.password() + "-rotated");
        try (Connection before = old.connect(); Statement st = before.createStatement()) {
            setClientPasswordHash(tenant, EasyScrypt.hash(rotated.password()));
            long deadline = System.currentTimeMillis() + 10_000;
            while (true) {
                try {
                    rotated.connect().close();
                    break;
                } catch (SQLException e) {
                    if (!"28P01".equals(e.getSQLState()) || System.currentTimeMillis() > deadline) {
                        throw e;
                    }
                    TestPostgres.sleep(200);
                }
            }
            assertEquals(tenant.schema(), schema(st), "the session opened with the old password still works");
        } finally {
            setClientPasswordHash(tenant, EasyScrypt.hash(tenant.password()));
        }
    }

    private static void setClientPasswordHash(SampleTenant tenant, String hash) throws SQLException {
        try (Connection auth = Fixtures.postgres().superuserConnection(TestPostgres.AUTH_DB);
             PreparedStatement ps = auth.prepareStatement("update perseus_auth set source_pass_hashed = ?"
                     + " where source_db = ? and source_schema = ?")) {
            ps.setString(1, hash);
            ps.setString(2, tenant.sourceDb());
            ps.setString(3, tenant.schema());
            assertEquals(1, ps.executeUpdate());
        }
    }

    private static String schema(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("select current_schema()")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
