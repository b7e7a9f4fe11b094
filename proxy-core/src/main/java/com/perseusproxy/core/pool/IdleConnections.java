package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.TenantKey;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.function.Supplier;

/**
 * The idle connections of one {@link BackendPool}, most recently used first, and the rules that let them go:
 * MaxIdle, MaxIdletime, and the retirement of stale ones (the rotation rule of {@link StaleRetirement}).
 *
 * <p>Why most recently used first: the connections at the far end are the surplus, and they age out through
 * MaxIdletime; handing out the oldest first would keep every connection warm forever. Why a scan for the tenant first:
 * a connection that last served the same tenant needs no session reset (see {@code SessionReset}), and the list holds
 * at most MaxIdle entries. Kept apart from the pool so that the pool reads as handing out and taking back, and the
 * life of a connection nobody uses is in one place. Runs on the pool's loop only.
 */
final class IdleConnections {

    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    private final Supplier<PoolSettings> settings;
    private final PoolStats stats;
    private final StaleRetirement retirement;

    IdleConnections(Supplier<PoolSettings> settings, PoolStats stats, StaleRetirement retirement) {
        this.settings = settings;
        this.stats = stats;
        this.retirement = retirement;
    }

    int size() {
        return idle.size();
    }

    boolean isEmpty() {
        return idle.isEmpty();
    }

    /**
     * A connection for a lease of {@code tenant}: the most recently used one that last served it, else one that has
     * served no tenant yet, else the most recently used of all; unusable ones are dropped and stale ones retired on
     * the way while retiring is allowed.
     *
     * @param open     the pool's open connections (the last one is not retired here: it is replaced first)
     * @param creating logins in flight
     */
    BackendConnection take(long now, TenantKey tenant, int open, int creating) {
        if (tenant != null) {
            // The tenant's own first (no reset); else one that has served nobody yet, which needs no reset either.
            BackendConnection fresh = null;
            for (BackendConnection candidate : idle) {
                if (candidate.isUsable() && !retirement.isStale(candidate, now)) {
                    if (tenant.equals(candidate.lastTenant())) {
                        idle.remove(candidate);
                        return candidate;
                    }
                    if (fresh == null && candidate.lastTenant() == null) {
                        fresh = candidate;
                    }
                }
            }
            if (fresh != null) {
                idle.remove(fresh);
                return fresh;
            }
        }
        BackendConnection connection;
        while ((connection = idle.poll()) != null) {
            if (!connection.isUsable()) {
                continue;
            }
            if (retirement.isStale(connection, now) && retirement.mayRetire(now, creating) && open > 1) {
                retire(connection, now);
                continue;
            }
            return connection;
        }
        return null;
    }

    /**
     * True if connections are idle but each last served another tenant than {@code tenant}: {@link #take} would hand
     * out one that needs a session reset.
     */
    boolean onlyOtherTenants(TenantKey tenant) {
        if (tenant == null || idle.isEmpty()) {
            return false;
        }
        for (BackendConnection candidate : idle) {
            if (candidate.lastTenant() == null || tenant.equals(candidate.lastTenant())) {
                return false;
            }
        }
        return true;
    }

    /** A connection that just logged in and that nobody waits for. */
    void addFresh(BackendConnection connection) {
        connection.markIdle(System.nanoTime());
        idle.push(connection);
    }

    /** A connection nobody waits for after its lease: kept, or closed if MaxIdle are idle already. */
    void keep(BackendConnection connection) {
        if (!connection.isUsable()) {
            return; // closed meanwhile (a lingering one): onClosed did the accounting
        }
        if (idle.size() >= settings.get().maxIdle()) {
            stats.closedForMaxIdle();
            close(connection);
            return;
        }
        idle.push(connection);
    }

    /** The connection closed: forget it; false if it was not idle. */
    boolean remove(BackendConnection connection) {
        return idle.remove(connection);
    }

    /** Closes up to {@code count} of the least recently used (a lowered MaxOpen, room for a probe login). */
    void closeLeastRecentlyUsed(int count) {
        for (int left = count; left > 0 && !idle.isEmpty(); left--) {
            close(idle.removeLast());
        }
    }

    void closeAll() {
        while (!idle.isEmpty()) {
            close(idle.poll());
        }
    }

    /**
     * Closes idle connections past MaxIdletime, retires stale ones (a stale last connection only once the pool has
     * been quiet for {@link StaleRetirement#QUIET_POOL_NANOS}), and trims the list to MaxIdle.
     */
    void evict(long now, int open, int creating) {
        PoolSettings current = settings.get();
        long maxIdleNanos = current.maxIdleTime().toNanos();
        for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
            BackendConnection connection = it.next();
            if (retirement.isStale(connection, now) && retirement.mayRetire(now, creating)
                    && (open > 1 || now - connection.idleSinceNanos() >= StaleRetirement.QUIET_POOL_NANOS)) {
                it.remove();
                retire(connection, now);
            } else if (maxIdleNanos > 0 && now - connection.idleSinceNanos() >= maxIdleNanos) {
                it.remove();
                stats.closedForIdleTime();
                close(connection);
            }
        }
        while (idle.size() > current.maxIdle()) {
            stats.closedForMaxIdle();
            close(idle.removeLast());
        }
    }

    /** Retires a stale connection (counted as such) and closes it. */
    void retire(BackendConnection connection, long now) {
        retirement.retiring(connection, now);
        close(connection);
    }

    void close(BackendConnection connection) {
        connection.close(settings.get().connCloseTimeout());
    }
}
