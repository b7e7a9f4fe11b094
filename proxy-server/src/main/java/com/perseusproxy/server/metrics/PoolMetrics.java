package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolStats;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * Perseus's per-pool metrics, same names, labels, types and meanings (Go's sql.DBStats), so existing dashboards keep
 * working. Perseus has one pool per ({@code dest_host}, {@code dest_db}); this proxy keeps one per backend user as
 * well, so pools that share a host and database are added up into one series, as Perseus would show them.
 * {@code dest_host} is written as in {@code perseus_auth}: {@code host} for the default port 5432, else
 * {@code host:port}.
 */
final class PoolMetrics {

    /** One metric family: its name, type, help text and how to read it from a pool. */
    private record Family(String name, String type, String help, ToDoubleFunction<Totals> value) {
    }

    private static final List<Family> FAMILIES = List.of(
            new Family("perseus_max_open_connections", "gauge",
                    "Maximum number of open connections to the database.", t -> t.maxOpen),
            new Family("perseus_open_connections", "gauge",
                    "The number of established connections both in use and idle.", t -> t.open),
            new Family("perseus_in_use_connections", "gauge",
                    "The number of connections currently in use.", t -> t.inUse),
            new Family("perseus_idle_connections", "gauge",
                    "The number of idle connections.", t -> t.idle),
            new Family("perseus_wait_count_total", "counter",
                    "The total number of connections waited for.", t -> t.waitCount),
            new Family("perseus_wait_duration_seconds_total", "counter",
                    "The total time (in seconds) blocked waiting for a new connection.", t -> t.waitSeconds),
            new Family("perseus_max_idle_closed_total", "counter",
                    "The total number of connections closed due to SetMaxIdleConns.", t -> t.maxIdleClosed),
            new Family("perseus_max_idle_time_closed_total", "counter",
                    "The total number of connections closed due to SetConnMaxIdleTime.", t -> t.maxIdleTimeClosed),
            new Family("perseus_max_lifetime_closed_total", "counter",
                    "The total number of connections closed due to SetConnMaxLifetime.", t -> t.maxLifetimeClosed),
            // Beyond Perseus: named prepared statements in transaction pooling (PgBouncer's counters).
            new Family("perseus_client_parse_count_total", "counter",
                    "Named prepared statements parsed by clients.", t -> t.clientParses),
            new Family("perseus_server_parse_count_total", "counter",
                    "Named prepared statements parsed on backend connections.", t -> t.serverParses));

    /** The sums over the pools of one (dest_host, dest_db). */
    private static final class Totals {
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
        }
    }

    private record Labels(String destHost, String destDb) implements Comparable<Labels> {
        @Override
        public int compareTo(Labels other) {
            int byHost = destHost.compareTo(other.destHost);
            return byHost != 0 ? byHost : destDb.compareTo(other.destDb);
        }
    }

    private final PoolRegistry pools;
    private final Function<Destination, String> sourceOf;

    /** @param sourceOf the credential source of a backend pool: {@code perseus_auth} or a CredentialSources Kind */
    PoolMetrics(PoolRegistry pools, Function<Destination, String> sourceOf) {
        this.pools = pools;
        this.sourceOf = sourceOf;
    }

    /** Appends every family, one series per (dest_host, dest_db), in a stable order. */
    void writeTo(PrometheusText text) {
        Map<Labels, Totals> series = new TreeMap<>();
        for (BackendPool pool : pools.pools()) {
            Destination d = pool.destination();
            series.computeIfAbsent(new Labels(destHostLabel(d), d.database()), l -> new Totals()).add(pool.stats());
        }
        for (Family family : FAMILIES) {
            text.family(family.name, family.type, family.help);
            series.forEach((labels, totals) -> text.sample(family.name, family.value.applyAsDouble(totals),
                    "dest_host", labels.destHost, "dest_db", labels.destDb));
        }
        writeCredentials(text);
    }

    /**
     * Which credentials each pool uses, by fingerprint only (8 hex digits of SHA-256 of user NUL password, as in the
     * log), and how many open connections logged in with each: a rotation is complete on this replica when no
     * connection of the old fingerprint is left. {@code perseus-tools rotate} waits for exactly that.
     */
    private void writeCredentials(PrometheusText text) {
        Map<List<String>, Double> current = new TreeMap<>(PoolMetrics::compareLabels);
        Map<List<String>, Double> open = new TreeMap<>(PoolMetrics::compareLabels);
        for (BackendPool pool : pools.pools()) {
            Destination d = pool.destination();
            PoolStats.CredentialGauges gauges = pool.stats().credentialGauges();
            String host = destHostLabel(d);
            if (!gauges.current().isEmpty()) {
                current.merge(List.of(host, d.database(), sourceOf.apply(d), gauges.current()), 1.0, Math::max);
            }
            gauges.openByFingerprint().forEach((fingerprint, count) ->
                    open.merge(List.of(host, d.database(), fingerprint), count.doubleValue(), Double::sum));
        }
        text.family("perseus_pool_credentials", "gauge", "1 for the credentials (by fingerprint) a backend pool"
                + " logs in with now, and where they come from.");
        current.forEach((l, v) -> text.sample("perseus_pool_credentials", v, "dest_host", l.get(0), "dest_db",
                l.get(1), "source", l.get(2), "fingerprint", l.get(3)));
        text.family("perseus_pool_credential_connections", "gauge", "Open backend connections by the fingerprint"
                + " of the credentials they logged in with.");
        open.forEach((l, v) -> text.sample("perseus_pool_credential_connections", v, "dest_host", l.get(0),
                "dest_db", l.get(1), "fingerprint", l.get(2)));
    }

    private static int compareLabels(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = a.get(i).compareTo(b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    static String destHostLabel(Destination d) {
        if (d.port() == Destination.DEFAULT_PORT) {
            return d.host();
        }
        return (d.host().contains(":") ? "[" + d.host() + "]" : d.host()) + ":" + d.port();
    }
}
