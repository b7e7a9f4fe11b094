package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS between clients and the proxy ({@code ClientTLSSettings}), with certificates made by the test: psql and pgjdbc
 * up to verify-full, the refusal of plaintext under {@code require} before any password is asked for, the
 * CVE-2021-23214 case, and a certificate swapped by the reload that SIGHUP runs.
 */
class ClientTlsTest {

    private static final SampleTenant TENANT = Fixtures.TENANT_A;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    private static TlsCertificates ca;
    private static TlsCertificates.Pair certA;
    private static TlsCertificates.Pair certB;
    /** SSLMode require, certificate A. */
    private static PerseusService proxy;

    @BeforeAll
    static void start() {
        ca = TlsCertificates.newCa(dir);
        certA = ca.server("proxy-a", "DNS:localhost,IP:127.0.0.1", false);
        certB = ca.server("proxy-b", "DNS:localhost,IP:127.0.0.1", true); // PKCS#1 RSA key, as older openssl writes
        proxy = TlsProxies.start(TlsProxies.sharedAuthDsn(), TlsProxies.clientTls("require", certA));
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Target target(PerseusService service) {
        return Targets.viaProxy(TENANT, "127.0.0.1", service.port());
    }

    @Test
    void psqlConnectsWithSslmodeRequire() {
        PgTools.Result r = psql(target(proxy).libpqConnString().replace("sslmode=disable", "sslmode=require"));
        assertTrue(r.ok(), r.describe());
        assertTrue(r.stdout().startsWith(TENANT.schema()), r.describe());
        assertTrue(r.stdout().contains("SSL connection (protocol: TLSv1."), r.describe());
    }

    @Test
    void psqlConnectsWithSslmodeVerifyFull() {
        String conninfo = target(proxy).libpqConnString().replace("sslmode=disable",
                "sslmode=verify-full sslrootcert='" + ca.caCert() + "'");
        PgTools.Result r = psql(conninfo);
        assertTrue(r.ok(), r.describe());
        assertTrue(r.stdout().startsWith(TENANT.schema()), r.describe());
        assertTrue(r.stdout().contains("SSL connection"), r.describe());
    }

    @Test
    void psqlVerifyFullRefusesACertificateFromAnotherCa(@TempDir Path other) {
        TlsCertificates stranger = TlsCertificates.newCa(other);
        String conninfo = target(proxy).libpqConnString().replace("sslmode=disable",
                "sslmode=verify-full sslrootcert='" + stranger.caCert() + "'");
        PgTools.Result r = psql(conninfo);
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("certificate verify failed"), r.describe());
    }

    @Test
    void pgjdbcConnectsWithSslmodeVerifyFull() throws Exception {
        try (Connection c = target(proxy).connect("sslmode", "verify-full", "sslrootcert", ca.caCert().toString());
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select current_schema()")) {
            assertTrue(rs.next());
            assertEquals(TENANT.schema(), rs.getString(1));
        }
    }

    @Test
    void requireRefusesAPlaintextClientBeforeItCanSendAPassword() {
        try (PgWire wire = PgWire.open("127.0.0.1", proxy.port(), Duration.ofSeconds(10))) {
            wire.send(PgWire.startupPacket(PgWire.PROTOCOL_3_0, PgWire.startupParameters(target(proxy))));
            PgWire.Message first = wire.read();
            // The very first answer is the refusal: no AuthenticationCleartextPassword ('R') came before it, so the
            // client was never asked for its password and never sent it.
            assertNotNull(first, "an ErrorResponse before the close");
            assertEquals('E', first.type(), "first answer: " + first);
            assertEquals("28000", first.sqlState());
            String message = first.fields().get('M');
            assertTrue(message.contains("TLS") && message.contains("SSLMode is require"), message);
            assertTrue(wire.closedByServer(), "the connection is closed after the refusal");
        }
        // psql says why, too.
        PgTools.Result r = psql(target(proxy).libpqConnString());
        assertNotEquals(0, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("accepts only TLS-encrypted connections"), r.describe());
    }

    @Test
    void bytesSentTogetherWithTheSslRequestCloseTheConnectionWithoutAnS() {
        try (PgWire wire = PgWire.open("127.0.0.1", proxy.port(), Duration.ofSeconds(10))) {
            byte[] request = ByteBuffer.allocate(8).putInt(8).putInt(PgWire.SSL_REQUEST_CODE).array();
            byte[] startup = PgWire.startupPacket(PgWire.PROTOCOL_3_0, PgWire.startupParameters(target(proxy)));
            wire.send(PgWire.concat(request, startup)); // one write: the startup rides in plaintext with the request
            PgWire.Message answer = wire.read();
            assertNotNull(answer, "an ErrorResponse, not just a close");
            assertEquals('E', answer.type(), "no 'S': " + answer);
            assertEquals("08P01", answer.sqlState());
            assertTrue(answer.fields().get('M').contains("received unencrypted data after SSL request"),
                    answer.toString());
            assertTrue(wire.closedByServer());
        }
    }

    @Test
    void plaintextAfterTheSAnswerIsNotTreatedAsAStartup() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(PgWire.SSL_REQUEST_CODE).array());
            assertEquals('S', socket.getInputStream().read());
            socket.getOutputStream().write(PgWire.startupPacket(PgWire.PROTOCOL_3_0,
                    PgWire.startupParameters(target(proxy))));
            assertClosedWithoutAnAuthenticationRequest(socket.getInputStream());
        }
    }

    @Test
    void gssEncRequestIsAnsweredNThenTlsStillWorks() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", proxy.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(PgWire.GSSENC_REQUEST_CODE)
                    .array());
            assertEquals('N', socket.getInputStream().read());
            socket.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(PgWire.SSL_REQUEST_CODE).array());
            assertEquals('S', socket.getInputStream().read());
            try (SSLSocket tls = startTls(socket, proxy.port());
                 PgWire wire = PgWire.over(tls)) {
                wire.login(target(proxy));
                assertEquals(List.of(TENANT.schema()), wire.queryColumn("select current_schema()"));
            }
        }
    }

    @Test
    void certificateSwappedByReloadIsServedToTheNextClientWhileOpenSessionsGoOn() throws Exception {
        try (PerseusService service = TlsProxies.start(TlsProxies.sharedAuthDsn(),
                TlsProxies.clientTls("prefer", certA));
             Connection jdbc = target(service).connect("sslmode", "verify-full", "sslrootcert",
                     ca.caCert().toString());
             SSLSocket before = openTls(service.port());
             PgWire wireBefore = PgWire.over(before)) {
            wireBefore.login(target(service));
            assertEquals("CN=proxy-a", peer(before));
            assertEquals(1, queryInt(jdbc, "select 1"));

            // What the SIGHUP handler runs, with the certificate files changed.
            assertTrue(service.reloadTls(TlsProxies.parse(TlsProxies.sharedAuthDsn(),
                    TlsProxies.clientTls("prefer", certB))));

            try (SSLSocket after = openTls(service.port()); PgWire wireAfter = PgWire.over(after)) {
                assertEquals("CN=proxy-b", peer(after), "the next client gets the new certificate");
                wireAfter.login(target(service));
                assertEquals(List.of(TENANT.schema()), wireAfter.queryColumn("select current_schema()"));
            }
            // The sessions made before the swap were not dropped and still work.
            assertEquals(List.of("2"), wireBefore.queryColumn("select 2"));
            assertEquals("CN=proxy-a", peer(before));
            assertEquals(3, queryInt(jdbc, "select 3"));

            // A reload with unusable files (a key that is not the certificate's) changes nothing.
            assertFalse(service.reloadTls(TlsProxies.parse(TlsProxies.sharedAuthDsn(),
                    TlsProxies.clientTls("prefer", new TlsCertificates.Pair(certA.cert(), certB.key())))));
            try (SSLSocket later = openTls(service.port())) {
                assertEquals("CN=proxy-b", peer(later));
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static PgTools.Result psql(String conninfo) {
        Target target = target(proxy);
        return PgTools.run(List.of(PgTools.require("psql").toString(), "-X", "-A", "-t", "-d", conninfo,
                "-c", "select current_schema()", "-c", "\\conninfo"), target, TIMEOUT);
    }

    private static int queryInt(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    /** SSLRequest, 'S', then {@link #startTls}. */
    private static SSLSocket openTls(int port) throws Exception {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(PgWire.SSL_REQUEST_CODE).array());
        assertEquals('S', socket.getInputStream().read());
        return startTls(socket, port);
    }

    /** A TLS handshake over an accepted SSLRequest, trusting the test CA. */
    private static SSLSocket startTls(Socket socket, int port) throws Exception {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        try (InputStream in = Files.newInputStream(ca.caCert())) {
            trusted.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, "127.0.0.1", port, true);
        tls.startHandshake();
        return tls;
    }

    private static String peer(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }

    private static void assertClosedWithoutAnAuthenticationRequest(InputStream in) throws Exception {
        try {
            byte[] rest = in.readAllBytes(); // until the proxy closes
            assertTrue(rest.length == 0 || rest[0] != 'R', "no authentication request in plaintext");
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the proxy did not close the connection", e);
        } catch (java.net.SocketException e) {
            // reset: closed too
        }
    }
}
