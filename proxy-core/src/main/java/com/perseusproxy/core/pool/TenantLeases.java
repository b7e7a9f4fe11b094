package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.TenantKey;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Which tenant holds each connection of one pool that is handed out now, counted per tenant; every hand-out and
 * return of the pool passes through here (and into {@link PoolStats}).
 *
 * <p>Why the pool needs it: a session waiting while its tenant already holds a connection will get that one back
 * without a session reset when it is released ({@link WaitQueue} hands a released connection to a waiter of its last
 * tenant first), whereas a waiting tenant that holds none has nothing coming. So a released connection that its own
 * tenant does not want at once goes to such a <em>starving</em> tenant, and to nobody else before its linger ends.
 * Counted by connection rather than by its last tenant, because a connection handed out to a session that left
 * before its lease started still names its previous tenant. Runs on the pool's loop only.
 */
final class TenantLeases {

    private final PoolStats stats;
    private final Map<BackendConnection, TenantKey> holders = new IdentityHashMap<>();
    private final Map<TenantKey, Integer> heldByTenant = new HashMap<>();

    TenantLeases(PoolStats stats) {
        this.stats = stats;
    }

    /** {@code connection} goes to a session of {@code tenant} (null: a lease for no tenant, the login probe's). */
    void handedOut(BackendConnection connection, TenantKey tenant) {
        stats.leased(connection.lastTenant(), tenant);
        if (tenant != null && holders.put(connection, tenant) == null) {
            heldByTenant.merge(tenant, 1, Integer::sum);
        }
    }

    /** The lease of {@code connection} is over (it is back in the pool's hands, usable or not). */
    void returned(BackendConnection connection) {
        stats.returned();
        TenantKey tenant = holders.remove(connection);
        if (tenant != null) {
            heldByTenant.computeIfPresent(tenant, (t, n) -> n == 1 ? null : n - 1);
        }
    }

    /** Whether a session of {@code tenant} holds a connection of the pool now. */
    boolean holdsAny(TenantKey tenant) {
        return tenant != null && heldByTenant.containsKey(tenant);
    }
}
