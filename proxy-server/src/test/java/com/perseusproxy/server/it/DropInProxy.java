package com.perseusproxy.server.it;

import com.perseusproxy.core.secrets.FakeKms;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import com.perseusproxy.tools.PerseusTools;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A proxy set up like a Perseus deployment that keeps its backend passwords in AWS KMS: {@code AWSSettings} point at
 * a {@link FakeKms} (the real AWS SDK, dummy static credentials), the suite's local key decrypts the fixture's
 * {@code local:} rows beside them, metrics listen on a loopback port, and the AuthDBDSN carries a password (ignored by
 * the trusted superuser) so tests can check it never shows. One per JVM; tenants it serves live under the source
 * database {@link #SOURCE_DB}, apart from the fixture's rows.
 */
final class DropInProxy {

    static final String SOURCE_DB = "dropin";
    static final int MAX_OPEN = 3;
    static final String DSN_PASSWORD = "dsn-secret-" + Long.toHexString(System.nanoTime());

    private static FakeKms kms;
    private static PerseusService service;

    private DropInProxy() {
    }

    static synchronized PerseusService get() {
        if (service == null) {
            kms = new FakeKms();
            TestPostgres pg = Fixtures.postgres();
            String json = """
                    {
                      "ListenAddress": "127.0.0.1:0",
                      "MetricsAddress": "127.0.0.1:0",
                      "AuthDBSettings": { "AuthDBDSN": "%s", "AuthQueryTimeoutSecs": 5 },
                      "AWSSettings": { "AccessKeyId": "%s", "SecretAccessKey": "%s", "Region": "us-east-1",
                                       "Endpoint": "%s", "KMSKeyARN": "%s" },
                      "PoolSettings": { "MaxIdle": %d, "MaxOpen": %d, "QueryWaitTimeoutSecs": 60 },
                      "LocalKeySettings": { "KeyFile": "%s" },
                      "LogSettings": { "Level": "INFO", "Json": false }
                    }
                    """.formatted(authDsn(), FakeKms.ACCESS_KEY_ID, FakeKms.SECRET_ACCESS_KEY, kms.endpoint(),
                    FakeKms.KEY_ARN, MAX_OPEN, MAX_OPEN,
                    Fixtures.localKeyFile().toString().replace("\\", "\\\\"));
            try {
                service = PerseusService.start(ProxyConfig.parse(json, Map.of()));
            } catch (Exception e) {
                throw new IllegalStateException("could not start the drop-in proxy: " + e.getMessage(), e);
            }
            PerseusService started = service;
            FakeKms startedKms = kms;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                started.close();
                startedKms.close();
            }));
        }
        return service;
    }

    static FakeKms kms() {
        get();
        return kms;
    }

    static int port() {
        return get().port();
    }

    static int metricsPort() {
        return get().metricsPort();
    }

    /** The auth database as the proxy and the tools reach it, with a password trust authentication ignores. */
    static String authDsn() {
        TestPostgres pg = Fixtures.postgres();
        return "postgres://postgres:%s@%s:%d/%s?sslmode=disable&pool_max_conns=2".formatted(DSN_PASSWORD, pg.host(),
                pg.port(), TestPostgres.AUTH_DB);
    }

    /** Perseus's encpass KMS flags for the fake endpoint. */
    static List<String> kmsFlags() {
        return List.of("-access_key_id", FakeKms.ACCESS_KEY_ID, "-secret_access_key", FakeKms.SECRET_ACCESS_KEY,
                "-region", "us-east-1", "-endpoint", kms().endpoint(), "-key_arn", FakeKms.KEY_ARN);
    }

    /** A tenant of this proxy: schema {@code schema} in appdb, rows starting with its name. */
    static SampleTenant tenant(String schema, String user, String password) {
        SampleTenant tenant = new SampleTenant(SOURCE_DB, schema, user, password);
        try (Connection app = Fixtures.postgres().superuserConnection(TestPostgres.APP_DB)) {
            SampleDatabase.createTenantSchema(app, schema, TestPostgres.APP_OWNER.name());
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create schema " + schema + ": " + e.getMessage(), e);
        }
        return tenant;
    }

    /** Writes the tenant's row with the given hash and ciphertext, pointing at {@code backend}. */
    static void upsert(SampleTenant tenant, Backend backend, String hash, String destPassEnc) {
        try (Connection auth = Fixtures.postgres().superuserConnection(TestPostgres.AUTH_DB)) {
            SampleDatabase.upsertTenant(auth, tenant, backend, hash, destPassEnc);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write the row of " + tenant + ": " + e.getMessage(), e);
        }
    }

    static Target target(SampleTenant tenant) {
        return Targets.viaProxy(tenant, "127.0.0.1", port());
    }

    /** One run of perseus-tools, in process, with the auth DSN in its environment. */
    record ToolRun(int status, String out, String err) {
        String output() {
            if (status != 0) {
                throw new AssertionError("perseus-tools failed with " + status + ": " + err);
            }
            return out.strip();
        }
    }

    static ToolRun tools(String stdin, List<String> args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = PerseusTools.run(args.toArray(String[]::new),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of("PERSEUS_AUTHDBSETTINGS_AUTHDBDSN", authDsn()));
        return new ToolRun(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static ToolRun tools(String stdin, String... args) {
        return tools(stdin, Arrays.asList(args));
    }

    /** {@code perseus-tools encpass} with Perseus's KMS flags: the ciphertext it prints. */
    static String encpassKms(String password) {
        List<String> args = new ArrayList<>(List.of("encpass"));
        args.addAll(kmsFlags());
        args.addAll(List.of("-passwd", password));
        return tools("", args).output();
    }

    /** {@code perseus-tools genhash}, the password on standard input: the hash it prints. */
    static String genhash(String password) {
        return tools(password + "\n", "genhash").output();
    }
}
