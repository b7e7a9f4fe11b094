package com.perseusproxy.core.auth;

/**
 * Why a login was refused, for the proxy's log only: the client always gets the same 28P01 message, so that probing
 * cannot tell which tenants and users exist.
 */
enum LoginFailure {
    /** No perseus_auth row for (database, schema). */
    UNKNOWN_TENANT("no perseus_auth row for this database and schema"),
    /** The row exists, but its source_user differs from the startup user. */
    WRONG_USER("user does not match source_user"),
    /** The row and user match; the password does not. */
    WRONG_PASSWORD("wrong password"),
    /** source_pass_hashed is not a usable easy-scrypt hash: nobody can log in until it is regenerated. */
    UNUSABLE_STORED_HASH("source_pass_hashed is not a valid easy-scrypt hash; regenerate it with "
            + "'perseus-tools genhash'");

    final String description;

    LoginFailure(String description) {
        this.description = description;
    }
}
