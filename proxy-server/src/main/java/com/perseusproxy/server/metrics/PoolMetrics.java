package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolStats;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.PrometheusNaming;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;

/**
 * Perseus's per-pool metrics, same names, labels, types and help texts (Go's sql.DBStats), so existing dashboards
 * keep working. Perseus has one pool per ({@code dest_host}, {@code dest_db}); this proxy keeps one per backend user
 * as well, so pools that share a host and database are added up into one series, as Perseus would show them.
 * {@code dest_host} is written as in {@code perseus_auth}: {@code host} for the default port 5432, else
 * {@code host:port}.
 *
 * <p>A collector rather than registered counters because the values already live in each pool's {@link PoolStats}
 * (written on the data loop, read here at scrape time) and the summing over pools happens per scrape. To add a
 * per-pool family, add a {@link Family} to {@link #FAMILIES} and, if it needs a new number, a field to
 * {@link Totals}.
 */
final class PoolMetrics implements MultiCollector {

    enum Type { GAUGE, COUNTER }

    /** One metric family: its name, type, help text and how to read it from the sums of a series. */
    record Family(String name, Type type, String help, ToDoubleFunction<Totals> value) {
    }

    static final List<Family> FAMILIES = List.of(
            new Family("perseus_max_open_connections", Type.GAUGE,
                    "Maximum number of open connections to the database.", t -> t.maxOpen),
            new Family("perseus_open_connections", Type.GAUGE,
                    "The number of established connections both in use and idle.", t -> t.open),
            new Family("perseus_in_use_connections", Type.GAUGE,
                    "The number of connections currently in use.", t -> t.inUse),
            new Family("perseus_idle_connections", Type.GAUGE,
                    "The number of idle connections.", t -> t.idle),
            new Family("perseus_wait_count_total", Type.COUNTER,
                    "The total number of connections waited for.", t -> t.waitCount),
            new Family("perseus_wait_duration_seconds_total", Type.COUNTER,
                    "The total time (in seconds) blocked waiting for a new connection.", t -> t.waitSeconds),
            new Family("perseus_max_idle_closed_total", Type.COUNTER,
                    "The total number of connections closed due to SetMaxIdleConns.", t -> t.maxIdleClosed),
            new Family("perseus_max_idle_time_closed_total", Type.COUNTER,
                    "The total number of connections closed due to SetConnMaxIdleTime.", t -> t.maxIdleTimeClosed),
            new Family("perseus_max_lifetime_closed_total", Type.COUNTER,
                    "The total number of connections closed due to SetConnMaxLifetime.", t -> t.maxLifetimeClosed),
            // Beyond Perseus: named prepared statements in transaction pooling (PgBouncer's counters).
            new Family("perseus_client_parse_count_total", Type.COUNTER,
                    "Named prepared statements parsed by clients.", t -> t.clientParses),
            new Family("perseus_server_parse_count_total", Type.COUNTER,
                    "Named prepared statements parsed on backend connections.", t -> t.serverParses),
            new Family("perseus_pool_tenant_switches_total", Type.COUNTER,
                    "Leases that moved a backend connection to another tenant (each starts with a session reset).",
                    t -> t.tenantSwitches));

    /** The sums over the pools of one (dest_host, dest_db). */
    static final class Totals {
        double maxOpen;
        double open;
        double inUse;
        double idle;
        double waitCount;
        double waitSeconds;
        double maxIdleClosed;
        double maxIdleTimeClosed;
        double maxLifetimeClosed;
        double clientParses;
        double serverParses;
        double tenantSwitches;

        void add(PoolStats stats) {
            PoolStats.Gauges gauges = stats.gauges();
            maxOpen += gauges.maxOpen();
            open += gauges.open();
            inUse += gauges.inUse();
            idle += gauges.idle();
            waitCount += stats.waitCount();
            waitSeconds += stats.waitSeconds();
            maxIdleClosed += stats.maxIdleClosed();
            maxIdleTimeClosed += stats.maxIdleTimeClosed();
            maxLifetimeClosed += stats.maxLifetimeClosed();
            clientParses += stats.clientParseCount();
            serverParses += stats.serverParseCount();
            tenantSwitches += stats.tenantSwitches();
        }
    }

    private record Series(String destHost, String destDb) implements Comparable<Series> {
        @Override
        public int compareTo(Series other) {
            int byHost = destHost.compareTo(other.destHost);
            return byHost != 0 ? byHost : destDb.compareTo(other.destDb);
        }

        Labels labels() {
            return Labels.of("dest_host", destHost, "dest_db", destDb);
        }
    }

    private final PoolRegistry pools;

    PoolMetrics(PoolRegistry pools) {
        this.pools = pools;
    }

    @Override
    public MetricSnapshots collect() {
        Map<Series, Totals> series = new TreeMap<>();
        for (BackendPool pool : pools.pools()) {
            Destination d = pool.destination();
            series.computeIfAbsent(new Series(destHostLabel(d), d.database()), s -> new Totals()).add(pool.stats());
        }
        List<MetricSnapshot> snapshots = new ArrayList<>(FAMILIES.size());
        for (Family family : FAMILIES) {
            snapshots.add(family.type == Type.GAUGE ? gauge(family, series) : counter(family, series));
        }
        return new MetricSnapshots(snapshots);
    }

    private static GaugeSnapshot gauge(Family family, Map<Series, Totals> series) {
        GaugeSnapshot.Builder builder = GaugeSnapshot.builder().name(family.name).help(family.help);
        series.forEach((s, totals) -> builder.dataPoint(GaugeDataPointSnapshot.builder()
                .labels(s.labels()).value(family.value.applyAsDouble(totals)).build()));
        return builder.build();
    }

    private static CounterSnapshot counter(Family family, Map<Series, Totals> series) {
        // The library adds "_total" back when it writes a counter, so the snapshot carries the name without it.
        CounterSnapshot.Builder builder = CounterSnapshot.builder().name(PrometheusNaming.prometheusName(family.name))
                .help(family.help);
        series.forEach((s, totals) -> builder.dataPoint(CounterDataPointSnapshot.builder()
                .labels(s.labels()).value(family.value.applyAsDouble(totals)).build()));
        return builder.build();
    }

    @Override
    public List<String> getPrometheusNames() {
        return FAMILIES.stream().map(f -> PrometheusNaming.prometheusName(f.name)).toList();
    }

    static String destHostLabel(Destination d) {
        if (d.port() == Destination.DEFAULT_PORT) {
            return d.host();
        }
        return (d.host().contains(":") ? "[" + d.host() + "]" : d.host()) + ":" + d.port();
    }
}
