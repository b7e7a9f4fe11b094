package com.perseusproxy.server.it;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * The sample tenants every integration test uses, installed once per JVM into {@link TestPostgres} with
 * {@link SampleDatabase}: schemas in {@code appdb} (owned by {@code app_owner}) and rows in
 * {@code perseus.perseus_auth} (real easy-scrypt hashes; backend password encrypted with a local key). Every row of a tenant's {@code notes} table starts with {@code "<schema>:"}; tests
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
    private static Path keyFile;
    private static LocalKeyCipher cipher;

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

    /** source_pass_hashed for a client password: easy-scrypt with Perseus's parameters. */
    static String hashPassword(String password) {
        return EasyScrypt.hash(password);
    }

    /** dest_pass_enc for the backend password, encrypted with the suite's local key (see {@link #localKeyFile()}). */
    static String encryptBackendPassword(String password) {
        return cipher().encrypt(password);
    }

    /**
     * The key file that decrypts every dest_pass_enc of the fixture: configure the proxy under test with it
     * ({@code LocalKeySettings.KeyFile}). Created once per JVM, deleted at exit.
     */
    public static synchronized Path localKeyFile() {
        if (keyFile == null) {
            try {
                Path dir = Files.createTempDirectory("perseus-it-key");
                keyFile = dir.resolve("local.key");
                cipher = new LocalKeyCipher(LocalKey.writeNewKey(keyFile));
                keyFile.toFile().deleteOnExit();
                dir.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the local key file", e);
            }
        }
        return keyFile;
    }

    /** The cipher for {@link #localKeyFile()}. */
    public static synchronized LocalKeyCipher cipher() {
        localKeyFile();
        return cipher;
    }
}
