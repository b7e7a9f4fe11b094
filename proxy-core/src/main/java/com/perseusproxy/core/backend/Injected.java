package com.perseusproxy.core.backend;

/**
 * What a simple Query the proxy sent on its own is for. Their replies are never the client's; this says how a failure
 * of each is judged (see {@link BackendConnection}).
 */
enum Injected {
    /** The tenant-switch {@link SessionReset}: if it fails, the session is in a state nobody knows and is closed. */
    RESET,
    /** Points the session at the tenant's schema: if it fails, nothing may run for this client here. */
    SEARCH_PATH,
    /** The client's tracked settings: a failure leaves them in doubt, so the next lease resets first. */
    SETTINGS,
    /** Rolls back what a departed client left open. */
    ROLLBACK,
    /** The empty query of a liveness check before hand-out (PoolSettings.ServerCheckDelaySecs). */
    LIVENESS,
    /** The {@link SettingsLearner}'s question after a client's SET. */
    LEARN
}
