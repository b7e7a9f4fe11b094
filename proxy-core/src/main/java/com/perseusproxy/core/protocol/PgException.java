package com.perseusproxy.core.protocol;

/**
 * An error meant for a client: it becomes an ErrorResponse with this SQLSTATE and message, so the message must tell
 * the user what to do and must never contain a secret.
 */
public class PgException extends RuntimeException {

    private final String sqlState;
    private final boolean fatal;

    public PgException(String sqlState, String message) {
        this(sqlState, message, true, null);
    }

    public PgException(String sqlState, String message, boolean fatal, Throwable cause) {
        super(message, cause, false, false);
        this.sqlState = sqlState;
        this.fatal = fatal;
    }

    public String sqlState() {
        return sqlState;
    }

    /** FATAL errors end the client's connection after they are sent. */
    public boolean fatal() {
        return fatal;
    }
}
