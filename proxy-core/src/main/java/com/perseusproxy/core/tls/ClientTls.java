package com.perseusproxy.core.tls;

import io.netty.handler.ssl.SslContext;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What clients are offered: the mode and the certificate. Held in an {@link AtomicReference} that a reload swaps
 * whole: each new connection reads it once at its SSLRequest, and sessions already encrypted keep the context they
 * were made with, so a renewed certificate is served to the next client without dropping anyone.
 */
public final class ClientTls {

    /** @param context null when the mode is {@code disable} */
    public record Settings(ClientTlsMode mode, SslContext context) {
        public Settings {
            if (mode.offersTls() && context == null) {
                throw new IllegalArgumentException("SSLMode " + mode.configName() + " needs a certificate");
            }
        }
    }

    private final AtomicReference<Settings> current;

    public ClientTls(Settings initial) {
        current = new AtomicReference<>(initial);
    }

    /** TLS off: every SSLRequest is answered 'N'. */
    public static ClientTls disabled() {
        return new ClientTls(new Settings(ClientTlsMode.DISABLE, null));
    }

    public Settings current() {
        return current.get();
    }

    /** Takes effect for connections that send their SSLRequest from now on. */
    public void replace(Settings next) {
        current.set(next);
    }
}
