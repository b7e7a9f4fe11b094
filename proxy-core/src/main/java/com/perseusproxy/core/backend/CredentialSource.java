package com.perseusproxy.core.backend;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a pool gets fresh credentials for its destination when every one it knows was refused: the rows of
 * {@code perseus_auth} that point there, read and decrypted afresh. Implementations block (JDBC, KMS) on their own
 * executor and complete the future there, never on the event loop.
 */
@FunctionalInterface
public interface CredentialSource {

    /** For pools that have nowhere to look (tests, tools). */
    CredentialSource NONE = destination -> CompletableFuture.completedFuture(List.of());

    /** @return the distinct credentials the destination's rows now hold; fails when the auth database cannot answer */
    CompletableFuture<List<BackendCredentials>> reload(Destination destination);
}
