package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * All backend pools, one per destination, created on first use. Each pool has one slice per data loop
 * ({@link PoolSlices}; with one loop, the pool itself); a slice lives on its loop. The map itself is concurrent so
 * that sessions on every loop, and the metrics, can look pools up.
 */
public final class PoolRegistry implements AutoCloseable {

    private volatile boolean pauseNewPools;

    private final DataLoops loops;
    /** Loop 0: where routes are updated and reloads applied. */
    private final EventLoop loop;
    private final BackendConnector connector;
    private final Function<Destination, PoolSettings> settingsFor;
    private final Map<Destination, PoolSlices> pools = new ConcurrentHashMap<>();
    private final List<ScheduledFuture<?>> housekeeping = new ArrayList<>();
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
        this(DataLoops.of(loop), connector, settingsFor, credentialSource, events);
    }

    /** @param loops the data loops: every pool gets one slice on each */
    public PoolRegistry(DataLoops loops, BackendConnector connector, Function<Destination, PoolSettings> settingsFor,
                        CredentialSource credentialSource, ProxyEvents events) {
        this.events = events;
        this.credentialSource = credentialSource;
        this.loops = loops;
        this.loop = loops.get(0);
        this.routes = new TenantRoutes(this, loop);
        this.connector = connector;
        this.settingsFor = settingsFor;
        for (int i = 0; i < loops.size(); i++) {
            int index = i;
            housekeeping.add(loops.get(i).scheduleAtFixedRate(() -> housekeeping(index), 1, 1, TimeUnit.SECONDS));
        }
    }

    /** The data loops the pools' slices live on. */
    public DataLoops loops() {
        return loops;
    }

    /**
     * The pool of a destination for a session on the calling loop; the latest credentials known for it are used for
     * its next logins (by every slice).
     */
    public BackendPool poolFor(Destination destination, BackendCredentials credentials) {
        PoolSlices pool = existingOrNew(destination, credentials);
        pool.updateCredentials(credentials);
        return pool.here();
    }

    /** The pool of a destination, created with these credentials if it is new; an existing one is left as it is. */
    PoolSlices existingOrNew(Destination destination, BackendCredentials credentials) {
        return pools.computeIfAbsent(destination, d -> {
            PoolSlices created = new PoolSlices(d, loops, () -> settingsFor.apply(d), (sliceLoop, sliceSettings) -> {
                BackendPool slice = new BackendPool(d, credentials, sliceLoop, connector, sliceSettings,
                        credentialSource);
                slice.stats().sample(sliceSettings.get().maxOpen(), 0, 0);
                slice.reportTo(events);
                return slice;
            });
            if (pauseNewPools) {
                created.forEachSlice(BackendPool::pause); // a console PAUSE of every database covers new pools
            }
            return created;
        });
    }

    /** Console PAUSE without a database: pools created from now on start paused (until RESUME). */
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

    /** Every pool, its slices together (what the console and the routes act on). */
    public Collection<PoolSlices> destinations() {
        return pools.values();
    }

    /**
     * Every slice of every pool (with one loop: every pool). The metrics add the slices of a destination up; a
     * slice's methods may be called on its own loop only.
     */
    public Collection<BackendPool> pools() {
        if (loops.size() == 1) {
            return pools.values().stream().map(PoolSlices::here).toList();
        }
        List<BackendPool> all = new ArrayList<>();
        pools.values().forEach(p -> all.addAll(p.slices()));
        return all;
    }

    /** A reload changed the settings: every pool applies them now (on the loops; returns at once). */
    public void settingsChanged() {
        loop.execute(() -> pools.values().forEach(PoolSlices::settingsChanged));
    }

    /** Runs on each loop each second: evicts, then publishes each slice's counts for the metrics endpoint. */
    private void housekeeping(int loopIndex) {
        for (PoolSlices pool : pools.values()) {
            pool.housekeeping(loopIndex);
        }
    }

    @Override
    public void close() {
        housekeeping.forEach(h -> h.cancel(false));
        CompletableFuture<?> closed = loops.onEach(i -> {
            pools.values().forEach(p -> p.slices().get(i).closeIdle());
            return null;
        });
        try {
            closed.get(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // the loops are shutting down: connections still open close with them
        }
    }
}
