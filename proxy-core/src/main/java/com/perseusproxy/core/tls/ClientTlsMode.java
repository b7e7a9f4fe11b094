package com.perseusproxy.core.tls;

import java.util.Locale;

/**
 * {@code ClientTLSSettings.SSLMode}: whether clients may, or must, encrypt. As PgBouncer's {@code client_tls_sslmode},
 * {@code allow} and {@code prefer} behave the same on the server side: a client that asks for TLS gets it, one that
 * does not is served in plaintext.
 */
public enum ClientTlsMode {
    /** SSLRequest answered 'N' (Perseus's behaviour). */
    DISABLE,
    /** TLS when the client asks for it. */
    ALLOW,
    /** Same as {@link #ALLOW}; the name libpq users expect. */
    PREFER,
    /** A client that does not ask for TLS is refused before it can send a password. */
    REQUIRE;

    /** Whether an SSLRequest is answered 'S'. */
    public boolean offersTls() {
        return this != DISABLE;
    }

    /** The config spelling: {@code disable}, {@code allow}, {@code prefer}, {@code require}. */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** @return the mode, or null when {@code text} names none */
    public static ClientTlsMode parse(String text) {
        for (ClientTlsMode mode : values()) {
            if (mode.configName().equalsIgnoreCase(text.strip())) {
                return mode;
            }
        }
        return null;
    }
}
