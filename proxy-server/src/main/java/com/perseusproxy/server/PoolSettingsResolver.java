package com.perseusproxy.server;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.PoolSettings;
import com.perseusproxy.core.peers.BudgetBounds;
import com.perseusproxy.core.peers.GlobalBudget;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.server.peers.PeerRegistry;
import com.perseusproxy.core.peers.PeerDirectory;
import java.util.Map;
import java.util.function.Function;

/**
 * Chooses a destination's pool settings: the {@code OverrideSettings} entry named {@code dest_host/dest_db} (the
 * host written as in perseus_auth, with or without its port) if there is one, else the top-level PoolSettings.
 */
final class PoolSettingsResolver implements Function<Destination, PoolSettings> {

    /** Replaced whole on reload; pools read it at each decision, so new limits apply without restart. */
    private volatile PoolSettings defaults;
    private volatile Map<String, PoolSettings> overrides;
    /** The live replicas, for GlobalMaxOpen; a replica without peers counts itself only. */
    private volatile PeerDirectory peers = PeerDirectory.NONE;
    private volatile Runnable missingAllowance = () -> { };

    PoolSettingsResolver(PoolSettings defaults, Map<String, PoolSettings> overrides) {
        update(defaults, overrides);
    }

    void update(PoolSettings newDefaults, Map<String, PoolSettings> newOverrides) {
        this.overrides = Map.copyOf(newOverrides);
        this.defaults = newDefaults;
    }

    void peers(PeerDirectory directory) {
        this.peers = directory;
    }

    /** Asked for when a destination with a GlobalMaxOpen has no allowance yet (PeerRegistry.heartbeatSoon). */
    void onMissingAllowance(Runnable request) {
        this.missingAllowance = request;
    }

    /**
     * The configured settings, with MaxOpen lowered to this replica's share of GlobalMaxOpen when there is one: the
     * allowance its last heartbeat published bounds for (see BudgetBounds), or, without published bounds, the fair
     * share alone.
     */
    @Override
    public PoolSettings apply(Destination destination) {
        PoolSettings configured = configured(destination);
        if (configured.globalMaxOpen() <= 0) {
            return configured;
        }
        PeerDirectory.View view = peers.view();
        if (view.allowances() == null) {
            return configured.withShare(GlobalBudget.share(configured.globalMaxOpen(), view.liveCount(),
                    view.rank()));
        }
        Integer allowed = view.allowances().get(BudgetBounds.key(destination));
        if (allowed == null) {
            missingAllowance.run(); // a new pool: none until a heartbeat has published a bound for it
            return configured.withShare(0);
        }
        return configured.withShare(allowed);
    }

    /**
     * For the heartbeat: each destination with a GlobalMaxOpen that has pools here, with what this replica may hold
     * of it now (per pool, the larger of its limit in force and its open connections). Read on the pools' event
     * loop, where those counts live; the caller (the peers thread) waits for it, boundedly.
     */
    Map<String, PeerRegistry.BudgetUse> budgetUse(PoolRegistry pools) {
        java.util.Iterator<BackendPool> any = pools.pools().iterator();
        if (!any.hasNext()) {
            return Map.of();
        }
        try {
            return any.next().eventLoop().submit(() -> {
                Map<String, PeerRegistry.BudgetUse> use = new java.util.HashMap<>();
                for (BackendPool pool : pools.pools()) {
                    int global = configured(pool.destination()).globalMaxOpen();
                    if (global > 0) {
                        int held = Math.max(pool.settings().maxOpen(), pool.openCount());
                        use.merge(BudgetBounds.key(pool.destination()), new PeerRegistry.BudgetUse(global, held),
                                (a, b) -> new PeerRegistry.BudgetUse(a.global(), a.held() + b.held()));
                    }
                }
                return use;
            }).get(2, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the pools' budget use", e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("could not read the pools' budget use: " + e, e);
        }
    }

    private PoolSettings configured(Destination destination) {
        PoolSettings defaults = this.defaults;
        Map<String, PoolSettings> overrides = this.overrides;
        if (overrides.isEmpty()) {
            return defaults;
        }
        PoolSettings withPort = overrides.get(destination.host() + ":" + destination.port() + "/"
                + destination.database());
        if (withPort != null) {
            return withPort;
        }
        if (destination.port() == Destination.DEFAULT_PORT) {
            return overrides.getOrDefault(destination.host() + "/" + destination.database(), defaults);
        }
        return defaults;
    }
}
