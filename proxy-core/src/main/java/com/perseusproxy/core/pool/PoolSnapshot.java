package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.Destination;
import java.util.List;

/**
 * What the admin console shows of one pool, copied on the pool's event loop so the console never reaches into the
 * pool's mutable state. Credentials appear as fingerprints only.
 *
 * @param open            connections open or being opened
 * @param idle            idle connections in the pool
 * @param opening         connections logging in now
 * @param leased          leases in flight (a transaction, a cleanup, a cancel hold)
 * @param waiting         sessions queued for a connection
 * @param held            sessions held by PAUSE
 * @param oldestWaitNanos how long the first waiter has waited (0 if none)
 * @param closeNeeded     connections to be closed when released (RECONNECT)
 * @param liveCredential  fingerprint of the credentials new connections use
 * @param retiring        fingerprints of other known credentials (open connections may still use them)
 * @param loginFailing    whether logins to the destination fail now
 * @param lastLoginError  the last failed login's message (never a secret), or null
 * @param nextLoginMillis milliseconds until the next login attempt is allowed (0 = now)
 * @param servers         every open connection of the pool
 */
public record PoolSnapshot(Destination destination, int maxOpen, int open, int idle, int opening, long leased,
                           int waiting, int held, long oldestWaitNanos, boolean paused, int closeNeeded,
                           String liveCredential, List<String> retiring, boolean loginFailing, String lastLoginError,
                           long nextLoginMillis, long serverLogins, long leasesTotal, double waitSeconds,
                           List<ServerInfo> servers) {
}
