package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
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

    private final EventLoop loop;
    private final BackendConnector connector;
    private final Function<Destination, PoolSettings> settingsFor;
    private final Map<Destination, BackendPool> pools = new ConcurrentHashMap<>();
    private final ScheduledFuture<?> housekeeping;

    /**
     * @param settingsFor the settings of a destination's pool, read afresh at every decision so a reload takes
     *                    effect without restart
     */
    public PoolRegistry(EventLoop loop, BackendConnector connector, Function<Destination, PoolSettings> settingsFor) {
        this.loop = loop;
        this.connector = connector;
        this.settingsFor = settingsFor;
        this.housekeeping = loop.scheduleAtFixedRate(this::evictIdle, 1, 1, TimeUnit.SECONDS);
    }

    /** The pool of a destination; the latest credentials known for it are used for its next logins. */
    public BackendPool poolFor(Destination destination, BackendCredentials credentials) {
        BackendPool pool = pools.computeIfAbsent(destination, d -> {
            BackendPool created = new BackendPool(d, credentials, loop, connector, () -> settingsFor.apply(d));
            created.stats().sample(settingsFor.apply(d).maxOpen(), 0, 0);
            return created;
        });
        pool.updateCredentials(credentials);
        return pool;
    }

    public Collection<BackendPool> pools() {
        return pools.values();
    }

    /** Runs on the loop each second: evicts, then publishes each pool's counts for the metrics endpoint. */
    private void evictIdle() {
        for (BackendPool pool : pools.values()) {
            pool.evictIdle();
            pool.stats().sample(settingsFor.apply(pool.destination()).maxOpen(), pool.openCount(), pool.idleCount());
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
