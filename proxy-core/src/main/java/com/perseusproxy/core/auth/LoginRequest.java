package com.perseusproxy.core.auth;

/**
 * What a client presented at login. {@link #toString()} omits the password.
 *
 * @param password the cleartext password, or null when the client proved it with SCRAM
 * @param method   how it was asked (and the row read to decide), or {@link LoginMethod#CLEARTEXT}
 * @param proved   the verifier the client's SCRAM proof matched, or null
 */
public record LoginRequest(String database, String schema, String user, String password, LoginMethod method,
                           ScramVerifier proved) {

    public LoginRequest(String database, String schema, String user, String password) {
        this(database, schema, user, password, LoginMethod.CLEARTEXT, null);
    }

    /** The same login, now with the password (cleartext exchange). */
    public LoginRequest withPassword(String cleartext) {
        return new LoginRequest(database, schema, user, cleartext, method, null);
    }

    /** The same login, proved by SCRAM against this verifier. */
    public LoginRequest provedBy(ScramVerifier verifier) {
        return new LoginRequest(database, schema, user, null, method, verifier);
    }

    public LoginRequest withMethod(LoginMethod decided) {
        return new LoginRequest(database, schema, user, password, decided, proved);
    }

    @Override
    public String toString() {
        return "LoginRequest[" + user + "@" + database + "/" + schema + "]";
    }
}
