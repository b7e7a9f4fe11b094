package com.perseusproxy.core.backend;

/**
 * Where a {@link BackendConnection} stands in its life, each with PgBouncer's name for it in SHOW SERVERS. Only the
 * pool moves a connection out of LEASED, CANCEL_HOLD or CLEANING back to IDLE (through
 * {@link ConnectionOwner#release}), so a connection is never free while anything of a lease is left on the server.
 */
enum LeaseState {
    /** TCP connected, login handshake running. */
    LOGGING_IN("login"),
    /** Logged in and owned by the pool: free to lease. */
    IDLE("idle"),
    /** Leased to one client session; its messages flow. */
    LEASED("active"),
    /** The lease ended while a cancel for its client was in flight: held out of the pool until delivered. */
    CANCEL_HOLD("being_canceled"),
    /** Its client left mid-transaction; the proxy is rolling it back before it may serve anyone else. */
    CLEANING("used"),
    /** Closed; never to be used again. */
    CLOSED("closed");

    private final String consoleName;

    LeaseState(String consoleName) {
        this.consoleName = consoleName;
    }

    /** PgBouncer's name for this state (SHOW SERVERS' state column). */
    String consoleName() {
        return consoleName;
    }
}
