package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.PgException;

/**
 * The backend server refused the proxy's own login. The client is told with 08004 (the server rejected the
 * connection), not the server's 28P01, because the client's credentials were fine: the operator must fix the
 * destination's credentials. The server's SQLSTATE is kept for the proxy's own decisions.
 */
public final class BackendLoginException extends PgException {

    private final String backendSqlState;

    public BackendLoginException(Destination destination, String backendSqlState, String backendMessage) {
        super(backendSqlState.startsWith("28") ? "08004" : backendSqlState,
                "the proxy could not log in to backend " + destination + ": " + backendMessage
                        + (backendSqlState.startsWith("28")
                                ? " - the operator must check dest_user and dest_pass_enc in perseus_auth" : ""),
                true, null);
        this.backendSqlState = backendSqlState;
    }

    /** The SQLSTATE the server sent: 28P01 or 28000 mean the credentials were refused. */
    public String backendSqlState() {
        return backendSqlState;
    }

    public boolean credentialsRefused() {
        return backendSqlState.startsWith("28");
    }
}
