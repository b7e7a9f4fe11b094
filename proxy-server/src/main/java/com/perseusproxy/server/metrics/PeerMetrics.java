package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.peers.PeerDirectory;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolSettings;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.LinkedHashMap;
import java.util.function.Function;

/**
 * The peer families of {@code /metrics} (docs/PEERS.md): what became of CancelRequests that belong to another
 * replica, how many replicas this one sees live, and its share of each destination's {@code GlobalMaxOpen}. All are
 * read at scrape time from the {@link PeerDirectory} (written by the peers thread and the data loop, lock-free) and
 * from the pool-settings resolver, which computes the share from the same snapshot the pools use.
 */
final class PeerMetrics {

    private PeerMetrics() {
    }

    /**
     * @param settingsFor the pool settings in force per destination (with MaxOpen lowered to this replica's share
     *                    when the destination has a GlobalMaxOpen)
     */
    static void register(PrometheusRegistry registry, PeerDirectory peers, PoolRegistry pools,
                         Function<Destination, PoolSettings> settingsFor) {
        CounterWithCallback.builder().name("perseus_peer_cancels_forwarded_total")
                .help("CancelRequests for a key of another live replica, sent on to that replica.")
                .callback(callback -> callback.call(peers.forwardedCount())).register(registry);
        CounterWithCallback.builder().name("perseus_peer_cancels_received_total")
                .help("Cancels another replica sent on to this one (acted on here under the lease check).")
                .callback(callback -> callback.call(peers.receivedCount())).register(registry);
        CounterWithCallback.builder().name("perseus_peer_cancels_dropped_total")
                .help("CancelRequests for a key no live replica owns, dropped quietly as PostgreSQL does.")
                .callback(callback -> callback.call(peers.droppedCount())).register(registry);
        GaugeWithCallback.builder().name("perseus_peer_live_replicas")
                .help("Replicas this one sees live (itself included), which GlobalMaxOpen is split among.")
                .callback(callback -> callback.call(peers.view().liveCount())).register(registry);
        GaugeWithCallback.builder().name("perseus_peer_budget_share")
                .help("This replica's share of GlobalMaxOpen: the most connections it may open to the destination.")
                .labelNames("dest_host", "dest_db")
                .callback(callback -> shares(pools, settingsFor).forEach((series, share) ->
                        callback.call(share, series.destHost(), series.destDb())))
                .register(registry);
    }

    private record Series(String destHost, String destDb) {
    }

    /** One value per (dest_host, dest_db) with a global budget; pools of two accounts share their destination's. */
    private static Map<Series, Integer> shares(PoolRegistry pools, Function<Destination, PoolSettings> settingsFor) {
        Map<Series, Integer> shares = new LinkedHashMap<>();
        for (BackendPool pool : pools.pools()) {
            Destination d = pool.destination();
            PoolSettings settings = settingsFor.apply(d);
            if (settings.globalMaxOpen() > 0) {
                shares.merge(new Series(PoolMetrics.destHostLabel(d), d.database()), settings.maxOpen(), Math::max);
            }
        }
        return shares;
    }
}
