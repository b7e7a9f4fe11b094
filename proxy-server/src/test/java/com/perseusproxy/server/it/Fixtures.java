package com.perseusproxy.server.it;

import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The sample tenants every integration test uses, installed once per JVM into {@link TestPostgres} with
 * {@link SampleDatabase}: schemas in {@code appdb} (owned by {@code app_owner}) and rows in
 * {@code perseus.perseus_auth}. Every row of a tenant's {@code notes} table starts with {@code "<schema>:"}; tests
 * that add rows keep that rule (see {@link #body}), so "a tenant only sees its own rows" is one check.
 */
public final class Fixtures {

    public static final SampleTenant TENANT_A =
            new SampleTenant(TestPostgres.APP_DB, "tenant_a", "alice", "alice-secret-1");
    public static final SampleTenant TENANT_B =
            new SampleTenant(TestPostgres.APP_DB, "tenant_b", "bob", "bob-secret-2");
    /** pgbench's tables live here, away from the other tenants. */
    public static final SampleTenant BENCH =
            new SampleTenant(TestPostgres.APP_DB, "bench", "bench_user", "bench-secret-3");
    /** A schema name that breaks any proxy that pastes it into SQL unquoted (Perseus does). */
    public static final SampleTenant EVIL =
            new SampleTenant(TestPostgres.APP_DB, "evil\"; drop table x; --", "mallory", "mallory-secret-4");

    public static final List<SampleTenant> ALL = List.of(TENANT_A, TENANT_B, BENCH, EVIL);

    private static boolean installed;

    private Fixtures() {
    }

    /** The shared PostgreSQL, with the sample tenants installed. */
    public static synchronized TestPostgres postgres() {
        TestPostgres pg = TestPostgres.get();
        if (!installed) {
            install(pg);
            installed = true;
        }
        return pg;
    }

    /** The backend every tenant row points at: the shared PostgreSQL, logged in as {@code app_owner}. */
    public static Backend backend() {
        TestPostgres pg = TestPostgres.get();
        return new Backend(pg.host(), pg.port(), TestPostgres.APP_DB, TestPostgres.APP_OWNER.name(),
                TestPostgres.APP_OWNER.password());
    }

    /** A row body that keeps the "every row starts with its schema" rule. */
    public static String body(SampleTenant tenant, String text) {
        return tenant.schema() + ": " + text;
    }

    private static void install(TestPostgres pg) {
        try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB);
             Connection app = pg.superuserConnection(TestPostgres.APP_DB)) {
            SampleDatabase.install(auth, app, backend(), ALL, Fixtures::hashPassword, Fixtures::encryptBackendPassword);
        } catch (SQLException e) {
            throw new IllegalStateException("could not install the sample tenants: " + e.getMessage(), e);
        }
    }

    /**
     * source_pass_hashed for a client password. PLACEHOLDER until branch {@code auth} provides
     * {@code com.perseusproxy.core.auth.EasyScrypt.hash}: direct-to-PostgreSQL tests never read it, and this value
     * can never verify.
     */
    static String hashPassword(String password) {
        return "placeholder-not-an-easy-scrypt-hash";
    }

    /**
     * dest_pass_enc for the backend password. PLACEHOLDER until branch {@code auth} provides
     * {@code com.perseusproxy.core.secrets.LocalKeyCipher}.
     */
    static String encryptBackendPassword(String password) {
        return "placeholder-not-a-ciphertext";
    }
}
