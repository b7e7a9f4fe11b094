package com.perseusproxy.core.auth;

/** What a client presented at login. {@link #toString()} omits the password. */
public record LoginRequest(String database, String schema, String user, String password) {
    @Override
    public String toString() {
        return "LoginRequest[" + user + "@" + database + "/" + schema + "]";
    }
}
