package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Which credentials each pool uses, by fingerprint only (8 hex digits of SHA-256 of user NUL password, as in the
 * log), where they come from, and how many open connections logged in with each. A rotation is complete on this
 * replica when no connection of the old fingerprint is left; {@code perseus-tools rotate} waits for exactly that.
 * Read from each pool's {@link PoolStats} at scrape time; no user name and no secret is a label.
 */
final class PoolCredentialMetrics implements MultiCollector {

    static final String CURRENT = "perseus_pool_credentials";
    static final String CONNECTIONS = "perseus_pool_credential_connections";

    private final PoolRegistry pools;
    private final Function<Destination, String> sourceOf;

    /** @param sourceOf where a pool's credentials come from: perseus_auth, or a CredentialSources kind */
    PoolCredentialMetrics(PoolRegistry pools, Function<Destination, String> sourceOf) {
        this.pools = pools;
        this.sourceOf = sourceOf;
    }

    @Override
    public MetricSnapshots collect() {
        // Keyed by label values in order, so the output is sorted and pools of one (dest_host, dest_db) merge.
        Map<List<String>, Double> current = new TreeMap<>(PoolCredentialMetrics::compare);
        Map<List<String>, Double> open = new TreeMap<>(PoolCredentialMetrics::compare);
        for (BackendPool pool : pools.pools()) {
            Destination d = pool.destination();
            PoolStats.CredentialGauges gauges = pool.stats().credentialGauges();
            String host = PoolMetrics.destHostLabel(d);
            if (!gauges.current().isEmpty()) {
                current.merge(List.of(host, d.database(), sourceOf.apply(d), gauges.current()), 1.0, Math::max);
            }
            gauges.openByFingerprint().forEach((fingerprint, count) ->
                    open.merge(List.of(host, d.database(), fingerprint), count.doubleValue(), Double::sum));
        }
        GaugeSnapshot.Builder currentGauge = GaugeSnapshot.builder().name(CURRENT)
                .help("1 for the credentials (by fingerprint) a backend pool logs in with now, and where they come"
                        + " from.");
        current.forEach((l, v) -> currentGauge.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of(
                "dest_host", l.get(0), "dest_db", l.get(1), "source", l.get(2), "fingerprint", l.get(3)))
                .value(v).build()));
        GaugeSnapshot.Builder connections = GaugeSnapshot.builder().name(CONNECTIONS)
                .help("Open backend connections by the fingerprint of the credentials they logged in with.");
        open.forEach((l, v) -> connections.dataPoint(GaugeDataPointSnapshot.builder().labels(Labels.of(
                "dest_host", l.get(0), "dest_db", l.get(1), "fingerprint", l.get(2))).value(v).build()));
        return new MetricSnapshots(currentGauge.build(), connections.build());
    }

    @Override
    public List<String> getPrometheusNames() {
        return List.of(CURRENT, CONNECTIONS);
    }

    private static int compare(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }
}
