package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.tls.BackendTls;
import com.perseusproxy.core.tls.ServerTlsMode;
import com.perseusproxy.core.tls.TlsContexts;

/**
 * {@code ServerTLSSettings}: TLS between the proxy and its backends (top level, or one {@code OverrideSettings} entry).
 *
 * @param mode         {@code SSLMode} (default {@code prefer}, as libpq, pgx and PgBouncer)
 * @param rootCertFile {@code RootCertFile}: "" (none), "system" (the JVM's trusted roots) or a PEM file of CAs
 */
public record ServerTlsSettings(ServerTlsMode mode, String rootCertFile) {

    public static final ServerTlsSettings DEFAULT = new ServerTlsSettings(ServerTlsMode.PREFER, "");

    /** Reads the root certificates (blocking: at start-up or reload, never on an event loop). */
    public BackendTls load(String where) throws ConfigException {
        return TlsContexts.forBackends(mode, rootCertFile, where);
    }
}
