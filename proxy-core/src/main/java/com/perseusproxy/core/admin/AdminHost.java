package com.perseusproxy.core.admin;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the console needs from the running service that proxy-core does not know: the config file, the reload, the
 * shutdown, the rotation machinery. Implemented in proxy-server. The console calls these on the event loop, so each
 * returns at once; anything slow runs elsewhere and completes the future.
 */
public interface AdminHost {

    /** SHOW CONFIG: rows of key, value, default, changeable ("yes"/"no"); secrets already masked. */
    List<String[]> configRows();

    /** RELOAD: re-reads and applies the config file; completes exceptionally with a PgException on failure. */
    CompletableFuture<Void> reload();

    /**
     * SHUTDOWN: begins the graceful shutdown and returns at once. {@code waitForClients}: wait until every client has
     * disconnected on its own (PgBouncer's SHUTDOWN WAIT_FOR_CLIENTS) rather than only for transactions in flight.
     */
    void shutdown(boolean waitForClients);

    /** SHOW ROTATION: rows of key, value (never a secret). */
    List<String[]> rotationRows();

    /** Seconds until the next periodic re-read of the perseus_auth rows in use; -1 when there is none. */
    long nextRefreshSeconds();

    /** A host with no config file and no rotation: for tests of the core and for embedded use. */
    AdminHost NONE = new AdminHost() {
        @Override
        public List<String[]> configRows() {
            return List.of();
        }

        @Override
        public CompletableFuture<Void> reload() {
            return CompletableFuture.failedFuture(new com.perseusproxy.core.protocol.PgException("55000",
                    "this proxy was started without a config file, so there is nothing to reload"));
        }

        @Override
        public void shutdown(boolean waitForClients) {
        }

        @Override
        public List<String[]> rotationRows() {
            return List.of();
        }

        @Override
        public long nextRefreshSeconds() {
            return -1;
        }
    };
}
