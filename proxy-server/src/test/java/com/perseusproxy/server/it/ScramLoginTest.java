package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.auth.ScramVerifier;
import com.perseusproxy.server.PerseusService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Client SCRAM-SHA-256 against a row whose source_pass_hashed holds PostgreSQL-format verifiers (two, sharing a salt,
 * as during a rotation, next to an easy-scrypt hash): psql, pgjdbc and pgbench log in; over TLS,
 * channel_binding=require works (SCRAM-SHA-256-PLUS); the password never crosses the wire; a wrong one gets 28P01.
 */
class ScramLoginTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String SCHEMA = "scram_tenant";
    private static final String USER = "sam";
    private static final String PASSWORD = "sam-scram-secret-5";
    private static final String NEXT_PASSWORD = "sam-next-secret-6";

    /** The stored verifiers: secrets too, never to be logged. */
    private static final String[] VERIFIERS = new String[2];

    @TempDir
    static Path dir;
    private static PerseusService proxy;
    private static PerseusService tlsProxy;

    @BeforeAll
    static void start() {
        TestPostgres pg = Fixtures.postgres();
        ScramVerifier first = ScramVerifier.create(PASSWORD, 4096, null);
        ScramVerifier next = ScramVerifier.create(NEXT_PASSWORD, 4096, first.salt());
        VERIFIERS[0] = first.encode();
        VERIFIERS[1] = next.encode();
        String hashes = first.encode() + "," + next.encode() + "," + EasyScrypt.hash("scrypt-only-password");
        pg.execute(TestPostgres.APP_DB, "create schema if not exists " + SCHEMA + " authorization app_owner");
        pg.execute(TestPostgres.AUTH_DB, "delete from perseus_auth where source_schema = '" + SCHEMA + "'",
                "insert into perseus_auth (source_db, source_schema, source_user, source_pass_hashed, dest_host,"
                        + " dest_db, dest_pass_enc, dest_user) select source_db, '" + SCHEMA + "', '" + USER + "', '"
                        + hashes + "', dest_host, dest_db, dest_pass_enc, dest_user from perseus_auth"
                        + " where source_schema = 'tenant_a'");
        proxy = TlsProxies.start(TlsProxies.sharedAuthDsn(), "");
        TlsCertificates ca = TlsCertificates.newCa(dir);
        tlsProxy = TlsProxies.start(TlsProxies.sharedAuthDsn(), TlsProxies.clientTls("prefer",
                ca.server("proxy-scram", "DNS:localhost,IP:127.0.0.1", false)));
    }

    @AfterAll
    static void stop() {
        // Other tests count the fixture's rows: leave the table as it was.
        Fixtures.postgres().execute(TestPostgres.AUTH_DB,
                "delete from perseus_auth where source_schema = '" + SCHEMA + "'");
        if (proxy != null) {
            proxy.close();
        }
        if (tlsProxy != null) {
            tlsProxy.close();
        }
    }

    private static Target target(PerseusService service) {
        return new Target("127.0.0.1", service.port(), TestPostgres.APP_DB, USER, PASSWORD, SCHEMA);
    }

    @Test
    void rawClientIsAskedForScramAndBothVerifiersWork() {
        try (PgWire wire = PgWire.open(target(proxy))) {
            PgWire.Login login = wire.login(target(proxy));
            assertEquals(List.of(10, 11, 12, 0), login.authRequests(), "SASL, continue, final, ok");
            assertEquals(List.of(SCHEMA), wire.queryColumn("select current_schema()"));
        }
        try (PgWire wire = PgWire.open(target(proxy).withPassword(NEXT_PASSWORD))) {
            wire.login(target(proxy).withPassword(NEXT_PASSWORD));
            assertEquals(List.of("1"), wire.queryColumn("select 1"), "the second verifier (same salt) works too");
        }
        try (PgWire wire = PgWire.open(Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port()))) {
            PgWire.Login login = wire.login(Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port()));
            assertEquals(List.of(3, 0), login.authRequests(), "a row of easy-scrypt hashes keeps cleartext");
        }
    }

    @Test
    void wrongPasswordGets28P01() {
        for (String wrong : List.of("not-it", "scrypt-only-password")) {
            Target bad = target(proxy).withPassword(wrong);
            try (PgWire wire = PgWire.open(bad)) {
                PgWire.ServerError error = assertThrows(PgWire.ServerError.class, () -> wire.login(bad));
                assertEquals("28P01", error.sqlState());
                assertEquals("password authentication failed for user \"" + USER + "\" (SQLSTATE 28P01)",
                        error.getMessage(), "the same message as any bad login");
            }
        }
    }

    @Test
    void psqlPgjdbcAndPgbenchLogInWithScram() throws Exception {
        Target t = target(proxy);
        PgTools.Result psql = PgTools.run(PgTools.psql(t, "-c", "select current_schema()"), t, TIMEOUT);
        assertTrue(psql.ok(), psql.describe());
        assertEquals(SCHEMA, psql.stdout().strip());
        try (Connection c = t.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_schema()")) {
            assertTrue(rs.next());
            assertEquals(SCHEMA, rs.getString(1));
        }
        Path script = dir.resolve("select.sql");
        Files.writeString(script, "select 1;\n");
        PgTools.Result bench = PgTools.run(PgTools.pgbench(t, "-n", "-c", "4", "-j", "2", "-t", "20", "-C", "-f",
                script.toString()), t, TIMEOUT);
        assertTrue(bench.ok(), bench.describe());
        assertTrue(bench.stdout().contains("number of transactions actually processed: 80"), bench.describe());
    }

    @Test
    void channelBindingRequiredWorksOverTls() {
        Target t = target(tlsProxy);
        String conninfo = t.libpqConnString().replace("sslmode=disable", "sslmode=require channel_binding=require");
        PgTools.Result r = PgTools.run(List.of(PgTools.require("psql").toString(), "-X", "-A", "-t", "-d", conninfo,
                "-c", "select current_schema()"), t, TIMEOUT);
        assertTrue(r.ok(), r.describe());
        assertEquals(SCHEMA, r.stdout().strip());
        // Without TLS the server cannot bind the channel: libpq refuses, as it must.
        String plain = target(proxy).libpqConnString() + " channel_binding=require";
        PgTools.Result refused = PgTools.run(List.of(PgTools.require("psql").toString(), "-X", "-A", "-t", "-d",
                plain, "-c", "select 1"), t, TIMEOUT);
        assertFalse(refused.ok(), refused.describe());
    }

    @Test
    void thePasswordNeverCrossesTheWire() throws Exception {
        try (Relay relay = new Relay(proxy.port()); CapturedLogs logs = new CapturedLogs()) {
            Target viaRelay = new Target("127.0.0.1", relay.port(), TestPostgres.APP_DB, USER, PASSWORD, SCHEMA);
            PgTools.Result r = PgTools.run(PgTools.psql(viaRelay, "-c", "select 42"), viaRelay, TIMEOUT);
            assertTrue(r.ok(), r.describe());
            assertEquals("42", r.stdout().strip());
            String captured = relay.captured();
            assertTrue(captured.contains("SCRAM-SHA-256"), "the capture holds the exchange");
            assertTrue(captured.contains("select 42"), "and the query: the capture works");
            assertFalse(captured.contains(PASSWORD), "the password never crossed the wire");
            logs.assertNoneContains(List.of(PASSWORD, NEXT_PASSWORD, VERIFIERS[0], VERIFIERS[1]));
        }
    }

    /** A TCP relay that records what the client sent. */
    private static final class Relay implements AutoCloseable {
        private final ServerSocket server;
        private final ByteArrayOutputStream fromClient = new ByteArrayOutputStream();
        private final int target;

        Relay(int target) throws IOException {
            this.target = target;
            this.server = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
            Thread acceptor = new Thread(this::accept, "relay-accept");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            try {
                while (true) {
                    Socket client = server.accept();
                    Socket upstream = new Socket("127.0.0.1", target);
                    pump(client.getInputStream(), upstream.getOutputStream(), true);
                    pump(upstream.getInputStream(), client.getOutputStream(), false);
                }
            } catch (IOException closed) {
                // the test is over
            }
        }

        private void pump(InputStream in, OutputStream out, boolean record) {
            Thread t = new Thread(() -> {
                byte[] buffer = new byte[8192];
                try (in; out) {
                    int n;
                    while ((n = in.read(buffer)) > 0) {
                        if (record) {
                            synchronized (fromClient) {
                                fromClient.write(buffer, 0, n);
                            }
                        }
                        out.write(buffer, 0, n);
                        out.flush();
                    }
                } catch (IOException ignored) {
                    // one side closed
                }
            }, "relay-pump");
            t.setDaemon(true);
            t.start();
        }

        String captured() {
            synchronized (fromClient) {
                return fromClient.toString(StandardCharsets.ISO_8859_1);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
