package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * All backend pools, one per destination, created on first use. Pools live on one event loop (the proxy's data
 * loop); the map itself is concurrent so that metrics can list pools from another thread.
 */
public final class PoolRegistry implements AutoCloseable {

    private boolean pauseNewPools;

    private final EventLoop loop;
    private final BackendConnector connector;
    private final Function<Destination, PoolSettings> settingsFor;
    private final Map<Destination, BackendPool> pools = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> housekeeping;
    private final CredentialSource credentialSource;
    private final TenantRoutes routes;
    private final ProxyEvents events;

    /**
     * @param settingsFor the settings of a destination's pool, read afresh at every decision so a reload takes
     *                    effect without restart
     */
    public PoolRegistry(EventLoop loop, BackendConnector connector, Function<Destination, PoolSettings> settingsFor) {
        this(loop, connector, settingsFor, CredentialSource.NONE);
    }

    /** @param credentialSource where pools re-read their credentials when every known one is refused */
    public PoolRegistry(EventLoop loop, BackendConnector connector, Function<Destination, PoolSettings> settingsFor,
                        CredentialSource credentialSource) {
        this(loop, connector, settingsFor, credentialSource, ProxyEvents.NONE);
    }

    /** @param events where pools report leases, backend logins and rotation events for metrics */
    public PoolRegistry(EventLoop loop, BackendConnector connector, Function<Destination, PoolSettings> settingsFor,
                        CredentialSource credentialSource, ProxyEvents events) {
        this.events = events;
        this.credentialSource = credentialSource;
        this.routes = new TenantRoutes(this, loop);
        this.loop = loop;
        this.connector = connector;
        this.settingsFor = settingsFor;
        this.housekeeping = loop.scheduleAtFixedRate(this::evictIdle, 1, 1, TimeUnit.SECONDS);
    }

    /** The pool of a destination; the latest credentials known for it are used for its next logins. */
    public BackendPool poolFor(Destination destination, BackendCredentials credentials) {
        BackendPool pool = existingOrNew(destination, credentials);
        pool.updateCredentials(credentials);
        return pool;
    }

    /** The pool of a destination, created with these credentials if it is new; an existing one is left as it is. */
    BackendPool existingOrNew(Destination destination, BackendCredentials credentials) {
        return pools.computeIfAbsent(destination, d -> {
            BackendPool created = new BackendPool(d, credentials, loop, connector, () -> settingsFor.apply(d),
                    credentialSource);
            created.stats().sample(settingsFor.apply(d).maxOpen(), 0, 0);
            created.reportTo(events);
            if (pauseNewPools) {
                created.pause(); // a console PAUSE of every database covers pools made while it lasts
            }
            return created;
        });
    }

    /** Console PAUSE without a database: pools created from now on start paused (until RESUME). Loop only. */
    public void pauseNewPools(boolean paused) {
        pauseNewPools = paused;
    }

    /** Where the pools and the routes report for metrics. */
    ProxyEvents events() {
        return events;
    }

    /** Where each tenant in use is routed now. */
    public TenantRoutes routes() {
        return routes;
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    /** A reload changed the settings: every pool applies them now (on the loop; returns at once). */
    public void settingsChanged() {
        loop.execute(() -> pools.values().forEach(BackendPool::settingsChanged));
    }

    /** Runs on the loop each second: evicts, then publishes each pool's counts for the metrics endpoint. */
    private void evictIdle() {
        for (BackendPool pool : pools.values()) {
            pool.evictIdle();
            pool.stats().sample(settingsFor.apply(pool.destination()).maxOpen(), pool.openCount(), pool.idleCount());
            BackendCredentials current = pool.currentCredentials();
            pool.stats().sampleCredentials(current == null ? "" : current.fingerprint(), pool.openByFingerprint());
        }
    }

    @Override
    public void close() {
        housekeeping.cancel(false);
        if (loop.inEventLoop()) {
            pools.values().forEach(BackendPool::closeIdle);
        } else {
            loop.submit(() -> pools.values().forEach(BackendPool::closeIdle)).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }
}
