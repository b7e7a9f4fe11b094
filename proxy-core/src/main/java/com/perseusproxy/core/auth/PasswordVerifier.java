package com.perseusproxy.core.auth;

import java.util.concurrent.CompletableFuture;

/**
 * Checks a cleartext password against a comma list of stored hashes (easy-scrypt, as in {@code source_pass_hashed}),
 * off the caller's thread and within the same bounded pool as tenant logins, so console logins cannot become a
 * second, unbounded way to make the proxy run scrypt.
 */
public interface PasswordVerifier {

    /**
     * @param storedHashes the user's hashes, or null for an unknown user (a dummy hash is checked then, so the answer
     *                     takes as long as for a known user)
     * @return completes with whether one hash matched, or exceptionally with a PgException (53300 when the queue is
     *     full)
     */
    CompletableFuture<Boolean> verify(String storedHashes, String password);
}
