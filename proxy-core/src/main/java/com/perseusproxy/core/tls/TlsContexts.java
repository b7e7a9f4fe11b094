package com.perseusproxy.core.tls;

import com.perseusproxy.core.config.ConfigException;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.List;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the proxy's {@link SslContext}s from PEM files, with the JDK's TLS (no netty-tcnative: one less native
 * library to ship, and the handshake cost only matters per connection, which a pooler makes rare on the backend
 * side). Reads files, so it runs at start-up and on reload, never on an event loop.
 */
public final class TlsContexts {

    private static final Logger log = LoggerFactory.getLogger(TlsContexts.class);
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};
    /** {@code RootCertFile} value that means the JVM's own trusted roots (libpq's {@code sslrootcert=system}). */
    public static final String SYSTEM_ROOTS = "system";

    private TlsContexts() {
    }

    /**
     * The context clients' TLS sessions are served with ({@code ClientTLSSettings}).
     *
     * @param caFile null, or the CA whose client certificates are accepted: a client may then present one (it is
     *               verified against this CA), but need not; the password is checked either way
     */
    public static SslContext forClients(Path certFile, Path keyFile, Path caFile) throws ConfigException {
        List<X509Certificate> chain = PemFiles.certificates(certFile, "ClientTLSSettings.CertFile");
        PrivateKey key = PemFiles.privateKey(keyFile, "ClientTLSSettings.KeyFile");
        PemFiles.checkPair(chain.get(0), key, "ClientTLSSettings");
        SslContextBuilder builder = SslContextBuilder.forServer(key, chain)
                .sslProvider(SslProvider.JDK)
                .protocols(PROTOCOLS);
        if (caFile != null) {
            builder.trustManager(PemFiles.certificates(caFile, "ClientTLSSettings.CAFile"))
                    .clientAuth(ClientAuth.OPTIONAL);
        }
        SslContext context = build(builder, "ClientTLSSettings");
        X509Certificate leaf = chain.get(0);
        if (leaf.getNotAfter().before(new Date())) {
            log.warn("ClientTLSSettings.CertFile {}: the certificate expired on {}; clients that verify it will"
                    + " refuse to connect", certFile, leaf.getNotAfter().toInstant());
        }
        log.info("client TLS: serving certificate '{}' (valid until {}){}", leaf.getSubjectX500Principal().getName(),
                leaf.getNotAfter().toInstant(), caFile == null ? "" : "; client certificates checked against CAFile");
        return context;
    }

    /**
     * The backend side of one {@code ServerTLSSettings} (top level or an {@code OverrideSettings} entry).
     *
     * @param rootCertFile empty, {@value #SYSTEM_ROOTS}, or a PEM file of trusted CAs (e.g. the RDS bundle). As in
     *                     libpq, {@code prefer} and {@code require} verify the chain when one is given
     * @param where        the config key path, for messages
     */
    public static BackendTls forBackends(ServerTlsMode mode, String rootCertFile, String where)
            throws ConfigException {
        if (!mode.triesTls()) {
            return BackendTls.DISABLED;
        }
        boolean haveRoots = rootCertFile != null && !rootCertFile.isBlank();
        if (mode.verifiesChain() && !haveRoots) {
            throw new ConfigException(where + ".SSLMode " + mode.configName() + " needs " + where + ".RootCertFile:"
                    + " the CA certificate(s) the server's certificate must lead to, or \"" + SYSTEM_ROOTS
                    + "\" for the JVM's trusted roots");
        }
        SslContextBuilder builder = SslContextBuilder.forClient()
                .sslProvider(SslProvider.JDK)
                .protocols(PROTOCOLS)
                // Netty's client default checks host names; that is verify-full's job only.
                .endpointIdentificationAlgorithm(mode == ServerTlsMode.VERIFY_FULL ? "HTTPS" : null);
        if (!haveRoots) {
            builder.trustManager(InsecureTrustManagerFactory.INSTANCE); // prefer/require: encrypted, not verified
        } else if (!rootCertFile.strip().equals(SYSTEM_ROOTS)) {
            builder.trustManager(PemFiles.certificates(Path.of(rootCertFile.strip()), where + ".RootCertFile"));
        } // else: the JVM's default trust store
        return new BackendTls(mode, build(builder, where), haveRoots);
    }

    private static SslContext build(SslContextBuilder builder, String where) throws ConfigException {
        try {
            return builder.build();
        } catch (SSLException | RuntimeException e) {
            throw new ConfigException(where + ": cannot set up TLS: " + e.getMessage());
        }
    }
}
