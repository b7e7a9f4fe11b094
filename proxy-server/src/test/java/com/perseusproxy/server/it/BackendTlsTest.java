package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between the proxy and a backend ({@code ServerTLSSettings}, per destination through {@code OverrideSettings}):
 * a PostgreSQL of its own with {@code ssl=on} and a certificate for {@code 127.0.0.1} only, whose pg_hba.conf admits
 * the backend role over TLS only and with SCRAM. It holds its own perseus_auth, so no other test sees these tenants.
 */
class BackendTlsTest {

    private static final String ROLE = "tls_owner";
    private static final String ROLE_PASSWORD = "tls-owner-Secr3t";
    /** Routed to {@code 127.0.0.1:port}: the name in the server's certificate. */
    private static final SampleTenant GOOD = new SampleTenant("appdb", "tls_good", "tls_alice", "tls-alice-1");
    /** Routed to {@code localhost:port}: the same server, a name its certificate does not have. */
    private static final SampleTenant WRONG_HOST = new SampleTenant("appdb", "tls_wrong", "tls_bob", "tls-bob-2");
    /** Routed to the suite's shared PostgreSQL, which has TLS off, with SSLMode require. */
    private static final SampleTenant NO_TLS = new SampleTenant("appdb", "tls_none", "tls_carol", "tls-carol-3");

    @TempDir
    static Path dir;
    private static TlsCertificates ca;
    private static EmbeddedPostgres server;
    private static PerseusService proxy;

    @BeforeAll
    static void start() throws Exception {
        ca = TlsCertificates.newCa(dir);
        TlsCertificates.Pair cert = ca.server("backend", "IP:127.0.0.1", false);
        server = EmbeddedPostgres.builder()
                .setServerConfig("ssl", "on")
                .setServerConfig("ssl_cert_file", cert.cert().toString())
                .setServerConfig("ssl_key_file", cert.key().toString())
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("fsync", "off")
                .start();
        int port = server.getPort();
        try (Connection c = server.getPostgresDatabase().getConnection(); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + ROLE + " LOGIN PASSWORD '" + ROLE_PASSWORD + "'");
            st.execute("CREATE DATABASE appdb OWNER " + ROLE);
            st.execute("CREATE DATABASE perseus");
            writeHba(st);
        }
        Fixtures.postgres(); // the shared server, for the NO_TLS tenant
        try (Connection auth = server.getDatabase("postgres", "perseus").getConnection();
             Connection app = server.getDatabase("postgres", "appdb").getConnection()) {
            SampleDatabase.install(auth, app, new Backend("127.0.0.1", port, "appdb", ROLE, ROLE_PASSWORD),
                    List.of(GOOD), Fixtures::hashPassword, Fixtures::encryptBackendPassword);
            SampleDatabase.install(auth, app, new Backend("localhost", port, "appdb", ROLE, ROLE_PASSWORD),
                    List.of(WRONG_HOST), Fixtures::hashPassword, Fixtures::encryptBackendPassword);
            SampleDatabase.createAuthTable(auth);
            SampleDatabase.upsertTenant(auth, NO_TLS, Fixtures.backend(), Fixtures.hashPassword(NO_TLS.password()),
                    Fixtures.encryptBackendPassword(Fixtures.backend().password()));
        }
        String roots = TlsProxies.json(ca.caCert());
        String verifyFull = "{ \"ServerTLSSettings\": { \"SSLMode\": \"verify-full\", \"RootCertFile\": \"" + roots
                + "\" } }";
        // The top level stays plaintext: only the overrides turn TLS on, so a login that works proves they apply.
        String sections = ", \"ServerTLSSettings\": { \"SSLMode\": \"disable\" }, \"OverrideSettings\": {"
                + " \"127.0.0.1:" + port + "/appdb\": " + verifyFull + ","
                + " \"localhost:" + port + "/appdb\": " + verifyFull + ","
                + " \"127.0.0.1:" + Fixtures.postgres().port() + "/appdb\": { \"MaxOpen\": 1,"
                + " \"ServerTLSSettings\": { \"SSLMode\": \"require\" } } }";
        proxy = TlsProxies.start("postgres://postgres@127.0.0.1:" + port + "/perseus?sslmode=disable", sections);
    }

    /** TLS and SCRAM only for the backend role: a plaintext or non-SCRAM login of it is refused by the server. */
    private static void writeHba(Statement st) throws Exception {
        Path hba;
        try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
            rs.next();
            hba = Path.of(rs.getString(1));
        }
        Files.write(hba, List.of(
                "local all all trust",
                "host all postgres 127.0.0.1/32 trust",
                "host all postgres ::1/128 trust",
                "hostssl all " + ROLE + " 127.0.0.1/32 scram-sha-256",
                "hostssl all " + ROLE + " ::1/128 scram-sha-256",
                "hostnossl all " + ROLE + " all reject"));
        try (ResultSet rs = st.executeQuery("SELECT pg_reload_conf()")) {
            rs.next();
        }
        TestPostgres.sleep(500); // the postmaster re-reads pg_hba.conf asynchronously
    }

    @AfterAll
    static void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (server != null) {
            server.close();
        }
    }

    private static Target target(SampleTenant tenant) {
        return new Target("127.0.0.1", proxy.port(), tenant.sourceDb(), tenant.user(), tenant.password(),
                tenant.schema());
    }

    @Test
    void verifyFullConnectsWithScramInsideTls() throws Exception {
        try (Connection c = target(GOOD).connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_schema(), ssl, current_user"
                     + " from pg_stat_ssl where pid = pg_backend_pid()")) {
            assertTrue(rs.next());
            assertEquals(GOOD.schema(), rs.getString(1));
            assertTrue(rs.getBoolean(2), "the backend connection is encrypted");
            assertEquals(ROLE, rs.getString(3));
        }
    }

    @Test
    void verifyFullRefusesACertificateThatDoesNotNameTheHost() {
        SQLException e = assertThrows(SQLException.class, () -> target(WRONG_HOST).connect().close());
        assertEquals("08001", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("does not name host 'localhost'"), e.getMessage());
        assertTrue(e.getMessage().contains("verify-full"), e.getMessage());
    }

    @Test
    void requireRefusesAServerWithoutTls() {
        SQLException e = assertThrows(SQLException.class, () -> target(NO_TLS).connect().close());
        assertEquals("08001", e.getSQLState(), e.getMessage());
        assertTrue(e.getMessage().contains("does not accept TLS"), e.getMessage());
    }
}
