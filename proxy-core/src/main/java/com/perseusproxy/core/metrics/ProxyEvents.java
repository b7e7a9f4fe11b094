package com.perseusproxy.core.metrics;

import com.perseusproxy.core.backend.Destination;

/**
 * What the data path reports for metrics, without knowing how they are exported (the server module implements this
 * with the Prometheus client; core stays free of it). Callers run on the data event loop, so implementations must be
 * lock-free and allocate nothing per call: handles ({@link Tenant}, {@link Pool}) are resolved once, at login or
 * when a pool is made, and every call after that only bumps counters. Nothing passed here is a secret: pools are
 * named by their {@link Destination} (host, port, database, user), tenants by source database and schema.
 *
 * <p>Per message, nothing is reported: bytes are summed in the session's own fields and handed over once per
 * transaction, and durations are observed once per query and per transaction.
 */
public interface ProxyEvents {

    /** Reports nothing: for tests and for a proxy without a metrics endpoint. */
    ProxyEvents NONE = new ProxyEvents() {
    };

    /** How a client login ended. */
    enum LoginResult {
        /** Logged in. */
        OK("ok"),
        /** Refused: unknown tenant, wrong user or password (SQLSTATE class 28). */
        AUTH_FAILED("auth_failed"),
        /** Refused for load: scrypt queue full, too many connections (class 53). */
        BUSY("busy"),
        /** The proxy is shutting down (57P01). */
        SHUTDOWN("shutdown"),
        /** Anything else: protocol errors, login timeout, an unreachable backend during the probe. */
        ERROR("error");

        private final String label;

        LoginResult(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The result a login error with this SQLSTATE stands for. */
        public static LoginResult ofSqlState(String sqlState) {
            if (sqlState == null) {
                return ERROR;
            }
            if (sqlState.startsWith("28")) {
                return AUTH_FAILED;
            }
            if (sqlState.startsWith("53")) {
                return BUSY;
            }
            return sqlState.equals("57P01") ? SHUTDOWN : ERROR;
        }
    }

    /** The timeouts that end or cancel something, by the setting that fired. */
    enum Timeout {
        /** ClientSettings.LoginTimeoutSecs. */
        LOGIN("login"),
        /** ClientSettings.ClientIdleTimeoutSecs. */
        CLIENT_IDLE("client_idle"),
        /** ClientSettings.IdleInTransactionTimeoutSecs. */
        IDLE_IN_TRANSACTION("idle_in_transaction"),
        /** ClientSettings.QueryTimeoutSecs (counted when the cancel is sent). */
        QUERY("query"),
        /** PoolSettings.QueryWaitTimeoutSecs: no backend became free in time. */
        QUERY_WAIT("query_wait");

        private final String label;

        Timeout(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** Hitless-rotation events, so an operator can see a rotation happen (and finish). */
    enum Rotation {
        /** A pool learned new credentials from perseus_auth or a credential command. */
        CREDENTIALS_CHANGED("credentials_changed"),
        /** An idle connection logged in with outdated credentials was closed. */
        CONNECTION_RETIRED("connection_retired"),
        /** A tenant's route moved to another destination (the other account): its sessions follow. */
        ACCOUNT_SWITCHED("account_switched"),
        /** A pool no route points at any more closes its connections as they become idle. */
        POOL_RETIRED("pool_retired");

        private final String label;

        Rotation(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A login ended (once per client connection that sent a startup packet and got an answer). */
    default void login(LoginResult result) {
    }

    default void timeout(Timeout kind) {
    }

    default void rotation(Rotation event) {
    }

    /** The handle a logged-in session reports its transactions to; called once per login. */
    default Tenant tenant(String database, String schema) {
        return Tenant.NONE;
    }

    /** The handle a pool reports to; called once when the pool is made. */
    default Pool pool(Destination destination) {
        return Pool.NONE;
    }

    /** One tenant's traffic (or everyone's, when per-tenant series are off). */
    interface Tenant {
        Tenant NONE = new Tenant() {
        };

        /** A transaction ended: its backend lease lasted this long. */
        default void transaction(long nanos) {
        }

        /** A query (a simple Query, or an extended-protocol batch up to Sync) got its ReadyForQuery. */
        default void query(long nanos) {
        }

        /** Bytes since the last report, from the client and to it. */
        default void bytes(long fromClient, long toClient) {
        }
    }

    /** One backend pool. */
    interface Pool {
        Pool NONE = new Pool() {
        };

        /** A lease was handed out after waiting this long (0 when a connection was idle). */
        default void leased(long waitNanos) {
        }

        /** A new backend connection logged in, or its login failed. */
        default void backendLogin(boolean succeeded) {
        }
    }
}
