package com.perseusproxy.server;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.PoolSettings;
import com.perseusproxy.core.peers.GlobalBudget;
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

    /** The configured settings, with MaxOpen lowered to this replica's share of GlobalMaxOpen when there is one. */
    @Override
    public PoolSettings apply(Destination destination) {
        PoolSettings configured = configured(destination);
        if (configured.globalMaxOpen() <= 0) {
            return configured;
        }
        PeerDirectory.View view = peers.view();
        return configured.withShare(GlobalBudget.share(configured.globalMaxOpen(), view.liveCount(), view.rank()));
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
