package com.perseusproxy.core.pool;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.netty.channel.EventLoop;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each tenant in use is routed now, as {@code perseus_auth} last said (at a login or a refresh), keyed by
 * (database, schema). Client sessions look their pool up here at every transaction, so an account switch (a row's
 * {@code dest_user} and {@code dest_pass_enc} changed to the other account) moves their next transaction to the new
 * account's pool while the running one finishes on the old. A pool no route points at any more is retired: its
 * connections close as they become idle. Logins update it from every data loop and refreshes from loop 0, so an
 * update holds the object's lock (logins and refreshes only: a transaction's lookup reads the concurrent map); the
 * refresher lists the tenants in use from its own thread.
 */
public final class TenantRoutes {

    private static final Logger log = LoggerFactory.getLogger(TenantRoutes.class);

    /** A tenant: the source database and schema its clients name. */
    public record Key(String database, String schema) {
        static Key of(TenantRoute route) {
            return new Key(route.database(), route.schema());
        }
    }

    private final PoolRegistry pools;
    private final EventLoop loop;
    private final Map<Key, Entry> routes = new ConcurrentHashMap<>();
    /**
     * Counts the route changes that may move a session to another pool: a tenant seen for the first time, or routed
     * to another destination. A session looks its pool up again only when this moved (see {@link #moves}).
     */
    private volatile long moves;

    /**
     * A route and when the read that produced it started. Logins and refreshes read rows concurrently and finish in
     * any order: a login that read the row before an account switch must not undo the switch a later refresh applied.
     */
    private record Entry(TenantRoute route, long readStartedNanos) {
    }

    TenantRoutes(PoolRegistry pools, EventLoop loop) {
        this.pools = pools;
        this.loop = loop;
    }

    /**
     * A login read this route: it is the tenant's route from now on, unless a read that started later already gave
     * another one.
     *
     * @param readStartedNanos {@link System#nanoTime()} before the login's lookup started
     * @return the pool of the tenant's route
     */
    public BackendPool routeLogin(TenantRoute route, long readStartedNanos) {
        TenantRoute current = apply(route, readStartedNanos);
        return pools.poolFor(current.destination(), current.credentials());
    }

    /**
     * The pool a session logged in with {@code loginRoute} should use for its next transaction: the tenant's current
     * route's, which differs from the login's after an account switch.
     */
    public BackendPool poolFor(TenantRoute loginRoute) {
        Entry entry = routes.get(Key.of(loginRoute));
        TenantRoute current = entry == null ? loginRoute : entry.route();
        // Not poolFor(): tenants sharing a destination may disagree on credentials mid-rotation, and offering them
        // at every transaction would flip the pool's latest back and forth.
        return pools.existingOrNew(current.destination(), current.credentials()).here();
    }

    /**
     * Changes only when a route may have moved a session to another pool: a session that saw the same count at its
     * last transaction still has the right pool, and skips {@link #poolFor} (two map lookups per transaction).
     */
    public long moves() {
        return moves;
    }

    /** Each tenant in use and its route now, for the console's SHOW TENANTS. */
    public Map<Key, TenantRoute> snapshot() {
        Map<Key, TenantRoute> copy = new java.util.TreeMap<>(java.util.Comparator.comparing(Key::database)
                .thenComparing(Key::schema));
        routes.forEach((key, entry) -> copy.put(key, entry.route()));
        return copy;
    }

    /** The tenants in use, for the refresher to re-read. */
    public List<Key> inUse() {
        return List.copyOf(routes.keySet());
    }

    /**
     * A refresh read this route; applied on the event loop.
     *
     * @param readStartedNanos {@link System#nanoTime()} before the refresh read the row
     */
    public void offer(TenantRoute fresh, long readStartedNanos) {
        loop.execute(() -> {
            Entry entry = routes.get(Key.of(fresh));
            if (entry == null || !fresh.equals(entry.route())) {
                TenantRoute current = apply(fresh, readStartedNanos);
                pools.poolFor(current.destination(), current.credentials());
            }
        });
    }

    /** @return the tenant's route now: {@code route}, or the one already known if that was read later */
    private synchronized TenantRoute apply(TenantRoute route, long readStartedNanos) {
        Key key = Key.of(route);
        Entry entry = routes.get(key);
        if (entry != null && entry.readStartedNanos() - readStartedNanos > 0) {
            return entry.route(); // an older read finishing late
        }
        routes.put(key, new Entry(route, readStartedNanos));
        TenantRoute previous = entry == null ? null : entry.route();
        if (previous == null || !Objects.equals(previous.destination(), route.destination())) {
            moves++; // under this object's lock: the volatile write is the publication
        }
        if (previous != null && !Objects.equals(previous.destination(), route.destination())) {
            log.info("tenant {}/{} now routed to {} with {} (was {}); its sessions move at their next transaction",
                    route.database(), route.schema(), route.destination(), route.credentials(),
                    previous.destination());
            pools.events().rotation(ProxyEvents.Rotation.ACCOUNT_SWITCHED);
            retireUnrouted();
        }
        return route;
    }

    private void retireUnrouted() {
        Set<Destination> routed = new HashSet<>();
        routes.values().forEach(e -> routed.add(e.route().destination()));
        for (PoolSlices pool : pools.destinations()) {
            if (!routed.contains(pool.destination())) {
                pool.forEachSlice(BackendPool::retire);
            }
        }
    }
}
