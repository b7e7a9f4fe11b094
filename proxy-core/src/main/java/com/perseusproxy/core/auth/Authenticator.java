package com.perseusproxy.core.auth;

import java.util.concurrent.CompletableFuture;

/**
 * Checks a client's login. Never blocks the caller: lookups, scrypt and decryption run on bounded executors, and the
 * future completes on one of those threads (the caller hops back to its event loop).
 */
public interface Authenticator {

    /**
     * @return completes with the tenant's route, or exceptionally with a {@link com.perseusproxy.core.protocol.PgException}
     *     carrying the SQLSTATE and message to send to the client
     */
    CompletableFuture<TenantRoute> authenticate(LoginRequest request);

    /**
     * Decides, before the client is asked for its password, how to ask: SCRAM when the tenant's row holds a
     * verifier, else cleartext. The request has no password yet.
     */
    default CompletableFuture<LoginMethod> prepare(LoginRequest request) {
        return CompletableFuture.completedFuture(LoginMethod.CLEARTEXT);
    }
}
