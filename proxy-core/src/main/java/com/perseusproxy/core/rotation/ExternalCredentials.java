package com.perseusproxy.core.rotation;

import com.perseusproxy.core.backend.BackendCredentials;
import java.util.List;

/**
 * Backend credentials that come from outside {@code perseus_auth} for some backends (a configured command: Vault
 * dynamic credentials, a secrets manager). For such a backend the row's {@code dest_user} and {@code dest_pass_enc}
 * are ignored. Implementations block (they run programs), so callers use them off the event loop.
 */
public interface ExternalCredentials {

    /** No backend takes its credentials from outside. */
    ExternalCredentials NONE = new ExternalCredentials() {
        @Override
        public boolean covers(String host, int port, String database) {
            return false;
        }

        @Override
        public BackendCredentials current(String host, int port, String database) {
            throw new IllegalStateException("no external credentials configured");
        }

        @Override
        public BackendCredentials renew(String host, int port, String database) {
            throw new IllegalStateException("no external credentials configured");
        }
    };

    /** Whether the credentials of this backend (dest_host parsed into host and port, dest_db) come from outside. */
    boolean covers(String host, int port, String database);

    /**
     * The credentials in force: fetched on first use and again before they expire.
     *
     * @throws IllegalStateException with a message naming what to fix (never a secret) when they cannot be fetched
     */
    BackendCredentials current(String host, int port, String database);

    /** The server refused the current ones: fetch again now. Same failures as {@link #current}. */
    BackendCredentials renew(String host, int port, String database);

    /**
     * The server refused the current ones: what to try now, {@link #renew}'s result first, then credentials about to
     * become current (a secret's AWSPENDING version during a rotation), so a pool logs in before the store finishes.
     */
    default List<BackendCredentials> renewCandidates(String host, int port, String database) {
        return List.of(renew(host, port, database));
    }
}
