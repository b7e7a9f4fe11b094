package com.perseusproxy.core.auth;

import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.tenant.TenantRecord;

/** The errors a login can end with, as the client sees them. None carries a secret. */
final class AuthErrors {

    static final String INVALID_PASSWORD = "28P01";
    static final String TOO_MANY_CONNECTIONS = "53300";
    static final String CANNOT_CONNECT_NOW = "57P03";
    static final String ADMIN_SHUTDOWN = "57P01";
    /** sqlserver_rejected_establishment_of_sqlconnection: the tenant's row is unusable; only an operator can fix it. */
    static final String TENANT_MISCONFIGURED = "08004";
    static final String INTERNAL_ERROR = "XX000";

    private AuthErrors() {
    }

    /** Identical for unknown tenant, wrong user and wrong password, so probing reveals nothing. */
    static PgException passwordFailed(String user) {
        return new PgException(INVALID_PASSWORD, "password authentication failed for user \"" + user + "\"");
    }

    static PgException hashQueueFull() {
        return new PgException(TOO_MANY_CONNECTIONS, "too many logins are being checked at once; retry shortly");
    }

    static PgException lookupQueueFull() {
        return new PgException(TOO_MANY_CONNECTIONS,
                "too many logins are waiting for the authentication database; retry shortly");
    }

    static PgException authDbUnavailable() {
        return new PgException(CANNOT_CONNECT_NOW,
                "authentication database unavailable, try again shortly (the proxy's log has the cause)");
    }

    static PgException shuttingDown() {
        return new PgException(ADMIN_SHUTDOWN, "the proxy is shutting down; reconnect to retry");
    }

    static PgException tenantMisconfigured(TenantRecord tenant, String problem, String operatorAction) {
        return new PgException(TENANT_MISCONFIGURED, "tenant " + tenant.sourceDb() + "/" + tenant.sourceSchema()
                + " (perseus_auth row id " + tenant.id() + ") cannot be served: " + problem + "; the operator should "
                + operatorAction);
    }

    static PgException internal() {
        return new PgException(INTERNAL_ERROR, "internal error while checking the login; the proxy's log has "
                + "details, please report it");
    }
}
