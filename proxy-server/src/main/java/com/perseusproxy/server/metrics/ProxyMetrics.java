package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The proxy-wide series beyond Perseus's, fed by the data path through {@link ProxyEvents}. Every data point a hot
 * path touches is resolved when its handle is made (at start, at a login, when a pool is made), so an event costs
 * one lock-free {@code LongAdder}/{@code DoubleAdder} update of the Prometheus client and allocates nothing.
 * Exemplars are off: there is no tracing to link them to, and sampling them would cost time on the data loop.
 *
 * <p>Pools are labelled as in {@link PoolMetrics} ({@code dest_host}, {@code dest_db}, never the user); tenants
 * ({@code source_db}, {@code source_schema}) only with {@code MetricsSettings.PerTenant}.
 */
final class ProxyMetrics implements ProxyEvents {

    /** 100 µs to 60 s: a pooled transaction is usually a few ms; anything past a minute is an outlier anyway. */
    static final double[] DURATION_BUCKETS = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
            0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

    private final CounterDataPoint[] logins;
    private final CounterDataPoint[] timeouts;
    private final CounterDataPoint[] rotations;
    private final Counter backendLogins;
    private final Counter backendLoginFailures;
    private final Histogram poolWait;
    private final Traffic everyone;
    private final TenantFamilies tenants;

    /** @param perTenant also one series per tenant (MetricsSettings.PerTenant) */
    ProxyMetrics(PrometheusRegistry registry, boolean perTenant) {
        Counter loginCounter = Counter.builder().name("perseus_client_logins_total")
                .help("Client logins by result: ok, auth_failed (SQLSTATE 28xxx), busy (53xxx), shutdown (57P01),"
                        + " error (anything else).")
                .labelNames("result").withoutExemplars().register(registry);
        logins = new CounterDataPoint[LoginResult.values().length];
        for (LoginResult r : LoginResult.values()) {
            logins[r.ordinal()] = loginCounter.labelValues(r.label());
        }
        Counter timeoutCounter = Counter.builder().name("perseus_timeouts_total")
                .help("Timeouts that fired, by the setting: login, client_idle, idle_in_transaction, query (a cancel"
                        + " was sent), query_wait (no backend became free).")
                .labelNames("kind").withoutExemplars().register(registry);
        timeouts = new CounterDataPoint[Timeout.values().length];
        for (Timeout t : Timeout.values()) {
            timeouts[t.ordinal()] = timeoutCounter.labelValues(t.label());
        }
        Counter rotationCounter = Counter.builder().name("perseus_rotation_events_total")
                .help("Credential rotation events: credentials_changed, connection_retired, account_switched,"
                        + " pool_retired.")
                .labelNames("event").withoutExemplars().register(registry);
        rotations = new CounterDataPoint[Rotation.values().length];
        for (Rotation r : Rotation.values()) {
            rotations[r.ordinal()] = rotationCounter.labelValues(r.label());
        }
        backendLogins = Counter.builder().name("perseus_backend_logins_total")
                .help("Backend connections opened and logged in.")
                .labelNames("dest_host", "dest_db").withoutExemplars().register(registry);
        backendLoginFailures = Counter.builder().name("perseus_backend_login_failures_total")
                .help("Backend connections that could not connect or log in (every candidate credential refused).")
                .labelNames("dest_host", "dest_db").withoutExemplars().register(registry);
        poolWait = Histogram.builder().name("perseus_pool_wait_duration_seconds")
                .help("Time from a transaction's first message to its backend lease (0 when one was idle).")
                .labelNames("dest_host", "dest_db").classicOnly().classicUpperBounds(DURATION_BUCKETS)
                .withoutExemplars().register(registry);
        everyone = new Traffic(
                Counter.builder().name("perseus_transactions_total")
                        .help("Transactions (backend leases) completed.").withoutExemplars().register(registry)
                        .labelValues(),
                Histogram.builder().name("perseus_transaction_duration_seconds")
                        .help("How long transactions held their backend connection.").classicOnly()
                        .classicUpperBounds(DURATION_BUCKETS).withoutExemplars().register(registry).labelValues(),
                Counter.builder().name("perseus_queries_total")
                        .help("Queries completed: a simple Query, or an extended-protocol batch up to Sync.")
                        .withoutExemplars().register(registry).labelValues(),
                Histogram.builder().name("perseus_query_duration_seconds")
                        .help("Time from a query's first message on the backend to its ReadyForQuery.")
                        .classicOnly().classicUpperBounds(DURATION_BUCKETS).withoutExemplars().register(registry)
                        .labelValues(),
                Counter.builder().name("perseus_client_received_bytes_total")
                        .help("Bytes of protocol messages received from clients.").withoutExemplars()
                        .register(registry).labelValues(),
                Counter.builder().name("perseus_client_sent_bytes_total")
                        .help("Bytes of protocol messages sent to clients.").withoutExemplars().register(registry)
                        .labelValues(),
                null);
        tenants = perTenant ? new TenantFamilies(registry) : null;
    }

    @Override
    public void login(LoginResult result) {
        logins[result.ordinal()].inc();
    }

    @Override
    public void timeout(Timeout kind) {
        timeouts[kind.ordinal()].inc();
    }

    @Override
    public void rotation(Rotation event) {
        rotations[event.ordinal()].inc();
    }

    @Override
    public Tenant tenant(String database, String schema) {
        return tenants == null ? everyone : tenants.traffic(everyone, database, schema);
    }

    @Override
    public Pool pool(Destination destination) {
        String host = PoolMetrics.destHostLabel(destination);
        String db = destination.database();
        return new PoolHandle(poolWait.labelValues(host, db), backendLogins.labelValues(host, db),
                backendLoginFailures.labelValues(host, db));
    }

    private record PoolHandle(DistributionDataPoint waits, CounterDataPoint logins, CounterDataPoint failures)
            implements Pool {
        @Override
        public void leased(long waitNanos) {
            waits.observe(waitNanos / 1e9);
        }

        @Override
        public void backendLogin(boolean succeeded) {
            (succeeded ? logins : failures).inc();
        }
    }

    /** The proxy-wide data points, plus one tenant's when per-tenant series are on ({@code tenant} else null). */
    record Traffic(CounterDataPoint transactions, DistributionDataPoint transactionSeconds, CounterDataPoint queries,
                   DistributionDataPoint querySeconds, CounterDataPoint received, CounterDataPoint sent,
                   TenantFamilies.TenantPoints tenant) implements Tenant {
        @Override
        public void transaction(long nanos) {
            transactions.inc();
            transactionSeconds.observe(nanos / 1e9);
            if (tenant != null) {
                tenant.transaction(nanos);
            }
        }

        @Override
        public void query(long nanos) {
            queries.inc();
            querySeconds.observe(nanos / 1e9);
            if (tenant != null) {
                tenant.query(nanos);
            }
        }

        @Override
        public void bytes(long fromClient, long toClient) {
            received.inc(fromClient);
            sent.inc(toClient);
            if (tenant != null) {
                tenant.bytes(fromClient, toClient);
            }
        }
    }
}
