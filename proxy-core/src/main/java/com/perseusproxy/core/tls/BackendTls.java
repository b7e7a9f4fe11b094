package com.perseusproxy.core.tls;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * How the proxy talks TLS to one destination's server ({@code ServerTLSSettings}).
 *
 * @param context  null for {@code disable}
 * @param verified whether the certificate chain is checked (always for verify-ca and verify-full; for prefer and
 *                 require only with a RootCertFile, as in libpq)
 */
public record BackendTls(ServerTlsMode mode, SslContext context, boolean verified) {

    public static final BackendTls DISABLED = new BackendTls(ServerTlsMode.DISABLE, null, false);

    /**
     * An engine for this destination. The host name goes in, as written in {@code dest_host}, so that verify-full
     * compares the certificate with it (and SNI names it), never with the address it resolved to.
     */
    public SslHandler newHandler(ByteBufAllocator alloc, String host, int port) {
        return context.newHandler(alloc, host, port);
    }

    /** For messages: the mode, and what is checked. */
    public String describe() {
        return "ServerTLSSettings.SSLMode " + mode.configName() + (verified ? "" : ", certificate not verified");
    }
}
