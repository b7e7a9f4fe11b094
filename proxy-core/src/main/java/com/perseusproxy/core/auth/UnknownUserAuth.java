package com.perseusproxy.core.auth;

import java.util.Locale;

/**
 * How a client whose (database, schema, user) names no {@code perseus_auth} row is asked for its password
 * ({@code ClientSettings.UnknownUserAuth}). It should be the method the table's rows use, so that the first message
 * a prober sees does not tell a tenant that exists from one that does not (PostgreSQL does the same for unknown
 * roles under {@code scram-sha-256} in pg_hba.conf).
 */
public enum UnknownUserAuth {
    /** AuthenticationCleartextPassword, then the same scrypt run a row of easy-scrypt hashes costs (Perseus's). */
    CLEARTEXT("cleartext"),
    /** A SCRAM-SHA-256 exchange with a salt derived from the name (see {@link MockScram}), failing with 28P01. */
    SCRAM_SHA_256("scram-sha-256");

    private final String configName;

    UnknownUserAuth(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    /** @return the method named as in the config file (any case), or null for anything else */
    public static UnknownUserAuth parse(String name) {
        for (UnknownUserAuth method : values()) {
            if (method.configName.equals(name.strip().toLowerCase(Locale.ROOT))) {
                return method;
            }
        }
        return null;
    }
}
