package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.tls.ClientTls;
import com.perseusproxy.core.tls.ClientTlsMode;
import com.perseusproxy.core.tls.TlsContexts;
import java.nio.file.Path;

/**
 * {@code ClientTLSSettings}: TLS between clients and the proxy.
 *
 * @param mode     {@code SSLMode} (default {@code disable}, as Perseus)
 * @param certFile {@code CertFile}: PEM certificate chain, leaf first; null when not set
 * @param keyFile  {@code KeyFile}: its unencrypted PEM private key; null when not set
 * @param caFile   {@code CAFile}: optional CA for client certificates; null when not set
 */
public record ClientTlsSettings(ClientTlsMode mode, Path certFile, Path keyFile, Path caFile) {

    public static final ClientTlsSettings DISABLED = new ClientTlsSettings(ClientTlsMode.DISABLE, null, null, null);

    /** Reads the files (blocking: at start-up or reload, never on an event loop). */
    public ClientTls.Settings load() throws ConfigException {
        if (!mode.offersTls()) {
            return new ClientTls.Settings(mode, null);
        }
        return new ClientTls.Settings(mode, TlsContexts.forClients(certFile, keyFile, caFile));
    }
}
