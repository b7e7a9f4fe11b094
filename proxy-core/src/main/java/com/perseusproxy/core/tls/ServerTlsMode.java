package com.perseusproxy.core.tls;

import java.util.Locale;

/** {@code ServerTLSSettings.SSLMode}: libpq's sslmode values, with libpq's meaning, for the proxy's backend logins. */
public enum ServerTlsMode {
    /** Plaintext; no SSLRequest is sent. */
    DISABLE("disable"),
    /** TLS if the server accepts the SSLRequest, else plaintext. */
    PREFER("prefer"),
    /** TLS or no connection; the certificate is checked only when a root certificate is configured (as libpq). */
    REQUIRE("require"),
    /** TLS, and the server's certificate chain must lead to {@code RootCertFile}. */
    VERIFY_CA("verify-ca"),
    /** As {@link #VERIFY_CA}, and the certificate must name the host in {@code dest_host}. */
    VERIFY_FULL("verify-full");

    private final String configName;

    ServerTlsMode(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** Whether an SSLRequest is sent at all. */
    public boolean triesTls() {
        return this != DISABLE;
    }

    /** Whether a server that refuses TLS is refused in turn. */
    public boolean requiresTls() {
        return this == REQUIRE || this == VERIFY_CA || this == VERIFY_FULL;
    }

    /** Whether the certificate chain is always verified (a root certificate is mandatory). */
    public boolean verifiesChain() {
        return this == VERIFY_CA || this == VERIFY_FULL;
    }

    /** @return the mode, or null when {@code text} names none */
    public static ServerTlsMode parse(String text) {
        String wanted = text.strip().toLowerCase(Locale.ROOT);
        for (ServerTlsMode mode : values()) {
            if (mode.configName.equals(wanted)) {
                return mode;
            }
        }
        return null;
    }
}
