package com.perseusproxy.server.metrics;

import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The per-tenant series, registered only with {@code MetricsSettings.PerTenant}: counters, not histograms, since
 * a histogram per tenant would multiply thousands of tenants by every bucket. Labelled {@code source_db} and
 * {@code source_schema} (what a client names; never the user or anything from {@code perseus_auth}'s secrets).
 */
final class TenantFamilies {

    private final Counter transactions;
    private final Counter transactionSeconds;
    private final Counter queries;
    private final Counter querySeconds;
    private final Counter received;
    private final Counter sent;

    TenantFamilies(PrometheusRegistry registry) {
        transactions = counter(registry, "perseus_tenant_transactions_total", "Transactions completed, per tenant.");
        transactionSeconds = counter(registry, "perseus_tenant_transaction_seconds_total",
                "Time transactions held a backend connection, per tenant.");
        queries = counter(registry, "perseus_tenant_queries_total", "Queries completed, per tenant.");
        querySeconds = counter(registry, "perseus_tenant_query_seconds_total", "Time spent in queries, per tenant.");
        received = counter(registry, "perseus_tenant_client_received_bytes_total",
                "Bytes received from the tenant's clients.");
        sent = counter(registry, "perseus_tenant_client_sent_bytes_total", "Bytes sent to the tenant's clients.");
    }

    private static Counter counter(PrometheusRegistry registry, String name, String help) {
        return Counter.builder().name(name).help(help).labelNames("source_db", "source_schema").withoutExemplars()
                .register(registry);
    }

    /** Called once per login: the label lookup happens here, never per transaction. */
    ProxyMetrics.Traffic traffic(ProxyMetrics.Traffic everyone, String database, String schema) {
        TenantPoints points = new TenantPoints(transactions.labelValues(database, schema),
                transactionSeconds.labelValues(database, schema), queries.labelValues(database, schema),
                querySeconds.labelValues(database, schema), received.labelValues(database, schema),
                sent.labelValues(database, schema));
        return new ProxyMetrics.Traffic(everyone.transactions(), everyone.transactionSeconds(), everyone.queries(),
                everyone.querySeconds(), everyone.received(), everyone.sent(), points);
    }

    record TenantPoints(CounterDataPoint transactions, CounterDataPoint transactionSeconds, CounterDataPoint queries,
                        CounterDataPoint querySeconds, CounterDataPoint received, CounterDataPoint sent) {
        void transaction(long nanos) {
            transactions.inc();
            transactionSeconds.inc(nanos / 1e9);
        }

        void query(long nanos) {
            queries.inc();
            querySeconds.inc(nanos / 1e9);
        }

        void bytes(long fromClient, long toClient) {
            received.inc(fromClient);
            sent.inc(toClient);
        }
    }
}
