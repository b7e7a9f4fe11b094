package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.InputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate swapped on a real SIGHUP: the proxy runs as a process of its own, its certificate and key files are
 * replaced on disk, {@code kill -HUP} is sent, and the next psql and pgjdbc clients get the new certificate while the
 * TLS sessions opened before go on. The two certificates come from two different CAs, so what a client trusts tells
 * which one it was served: {@code sslmode=verify-full} with the second CA succeeds only against the new certificate.
 */
class TlsSighupTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void sighupServesTheNewCertificateToTheNextClientWhileOpenSessionsGoOn() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's TLS is what is tested");
        assumeTrue(new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute(), "no kill command");
        PgTools.require("psql");
        TlsCertificates oldCa = TlsCertificates.newCa(Files.createDirectory(dir.resolve("old-ca")));
        TlsCertificates newCa = TlsCertificates.newCa(Files.createDirectory(dir.resolve("new-ca")));
        TlsCertificates.Pair oldCert = oldCa.server("proxy-old", "DNS:localhost,IP:127.0.0.1", false);
        TlsCertificates.Pair newCert = newCa.server("proxy-new", "DNS:localhost,IP:127.0.0.1", true);
        // The files the config names, as a deployment would have them; their contents change, the names do not.
        TlsCertificates.Pair served = new TlsCertificates.Pair(dir.resolve("server.crt"), dir.resolve("server.key"));
        install(oldCert, served);

        int port = OpsProxy.freePort();
        Path config = dir.resolve("config.json");
        Files.writeString(config, OpsProxy.config("127.0.0.1:" + port, OpsProxy.authDsn(), 2, "",
                TlsProxies.clientTls("require", served)));
        Path log = dir.resolve("proxy.log");
        Process proxy = OpsProxy.spawn(config, log);
        try {
            OpsProxy.awaitLog(log, "listening on", 60);
            Target target = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", port);
            assertTrue(psql(target, oldCa).ok(), "psql trusts the first certificate's CA");
            assertFalse(psql(target, newCa).ok(), "and not yet the second's");
            try (Connection before = jdbc(target, oldCa);
                 SSLSocket rawBefore = openTls(port, oldCa, newCa);
                 PgWire wireBefore = PgWire.over(rawBefore)) {
                wireBefore.login(target);
                assertEquals("CN=proxy-old", subject(rawBefore));
                assertEquals(1, queryInt(before, "select 1"));

                install(newCert, served);
                OpsProxy.signal(proxy, "HUP");
                OpsProxy.awaitLog(log, "reloaded TLS settings", 15);

                PgTools.Result after = psql(target, newCa);
                assertTrue(after.ok(), "the next psql gets the new certificate: " + after.describe());
                assertTrue(after.stdout().contains(Fixtures.TENANT_A.schema()), after.describe());
                PgTools.Result stale = psql(target, oldCa);
                assertFalse(stale.ok(), "the old certificate is no longer served");
                assertTrue(stale.stderr().contains("certificate verify failed"), stale.describe());
                try (Connection next = jdbc(target, newCa)) {
                    assertEquals(2, queryInt(next, "select 2"), "pgjdbc verify-full against the new CA");
                }
                try (SSLSocket rawAfter = openTls(port, oldCa, newCa)) {
                    assertEquals("CN=proxy-new", subject(rawAfter));
                }

                // The sessions opened before the swap were not dropped: same certificate, still working.
                assertEquals(3, queryInt(before, "select 3"));
                assertEquals(List.of("4"), wireBefore.queryColumn("select 4"));
                assertEquals("CN=proxy-old", subject(rawBefore));
                assertTrue(proxy.isAlive(), Files.readString(log));
            }
        } finally {
            proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** Puts a certificate and key where the config points, each by rename, as a deployment tool would. */
    private static void install(TlsCertificates.Pair from, TlsCertificates.Pair to) throws Exception {
        for (Path[] file : new Path[][] {{from.cert(), to.cert()}, {from.key(), to.key()}}) {
            Path temp = file[1].resolveSibling(file[1].getFileName() + ".new");
            Files.copy(file[0], temp, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
            Files.move(temp, file[1], StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static PgTools.Result psql(Target target, TlsCertificates trusted) {
        String conninfo = target.libpqConnString().replace("sslmode=disable", "sslmode=verify-full sslrootcert='"
                + trusted.caCert() + "'");
        return PgTools.run(List.of(PgTools.require("psql").toString(), "-X", "-A", "-t", "-d", conninfo,
                "-c", "select current_schema()"), target, TIMEOUT);
    }

    private static Connection jdbc(Target target, TlsCertificates trusted) throws Exception {
        return target.connect("sslmode", "verify-full", "sslrootcert", trusted.caCert().toString());
    }

    private static int queryInt(Connection c, String sql) throws Exception {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    /** SSLRequest, 'S', then a handshake trusting the given CAs. */
    private static SSLSocket openTls(int port, TlsCertificates... trustedCas) throws Exception {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write(ByteBuffer.allocate(8).putInt(8).putInt(PgWire.SSL_REQUEST_CODE).array());
        assertEquals('S', socket.getInputStream().read());
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        for (int i = 0; i < trustedCas.length; i++) {
            try (InputStream in = Files.newInputStream(trustedCas[i].caCert())) {
                trusted.setCertificateEntry("ca" + i, CertificateFactory.getInstance("X.509").generateCertificate(in));
            }
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(socket, "127.0.0.1", port, true);
        tls.startHandshake();
        return tls;
    }

    private static String subject(SSLSocket socket) throws Exception {
        return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
    }
}
