package com.perseusproxy.core.pool;

import com.perseusproxy.core.metrics.ProxyEvents;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one pool, written on its event loop and read by the metrics endpoint from any thread. Names follow
 * Perseus's metrics (Go's sql.DBStats). The connection counts are a {@link Gauges} snapshot taken on the event loop
 * (when the pool is made, then each second by the registry's housekeeping), because the pool's own counts are plain
 * fields that only its event loop may read; the counters are live.
 */
public final class PoolStats {

    /**
     * Connection counts of one moment, with Go's sql.DBStats meanings.
     *
     * @param maxOpen the pool's MaxOpen
     * @param open    connections open or being opened, in use or idle
     * @param idle    open connections waiting in the pool
     */
    public record Gauges(int maxOpen, int open, int idle) {
        /** As Go computes InUse: open minus idle (connections being opened count as in use). */
        public int inUse() {
            return Math.max(0, open - idle);
        }
    }

    /**
     * Which credentials the pool logs in with now and how many open connections logged in with each, by fingerprint
     * (never the secret); empty before the first sample.
     */
    public record CredentialGauges(String current, java.util.Map<String, Integer> openByFingerprint) {
        public CredentialGauges {
            openByFingerprint = java.util.Map.copyOf(openByFingerprint);
        }
    }

    private volatile Gauges gauges = new Gauges(0, 0, 0);
    private volatile CredentialGauges credentialGauges = new CredentialGauges("", java.util.Map.of());
    private final LongAdder inUse = new LongAdder();
    private final LongAdder leasesTotal = new LongAdder();
    private final LongAdder opened = new LongAdder();
    private final LongAdder waitCount = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();
    private final LongAdder maxIdleClosed = new LongAdder();
    private final LongAdder maxIdleTimeClosed = new LongAdder();
    private final LongAdder maxLifetimeClosed = new LongAdder();
    private final LongAdder clientParses = new LongAdder();
    private final LongAdder serverParses = new LongAdder();
    private final LongAdder transactions = new LongAdder();
    private final LongAdder transactionNanos = new LongAdder();
    private final LongAdder queries = new LongAdder();
    private final LongAdder queryNanos = new LongAdder();
    private final LongAdder bytesFromClients = new LongAdder();
    private final LongAdder bytesToClients = new LongAdder();
    /** The console's SHOW STATS counts, in the shape a session already reports its tenant's traffic in. */
    private final ProxyEvents.Tenant traffic = new ProxyEvents.Tenant() {
        @Override
        public void transaction(long nanos) {
            transactions.increment();
            transactionNanos.add(nanos);
        }

        @Override
        public void query(long nanos) {
            queries.increment();
            queryNanos.add(nanos);
        }

        @Override
        public void bytes(long fromClient, long toClient) {
            bytesFromClients.add(fromClient);
            bytesToClients.add(toClient);
        }
    };

    void leased() {
        inUse.increment();
        leasesTotal.increment();
    }

    void returned() {
        inUse.decrement();
    }

    void opened() {
        opened.increment();
    }

    void waited(long nanos) {
        waitCount.increment();
        waitNanos.add(nanos);
    }

    void closedForMaxIdle() {
        maxIdleClosed.increment();
    }

    void closedForIdleTime() {
        maxIdleTimeClosed.increment();
    }

    void closedForLifetime() {
        maxLifetimeClosed.increment();
    }

    /** Called on the pool's event loop only. */
    void sample(int maxOpen, int open, int idle) {
        gauges = new Gauges(maxOpen, open, idle);
    }

    /** Called on the pool's event loop only. */
    void sampleCredentials(String currentFingerprint, java.util.Map<String, Integer> openByFingerprint) {
        credentialGauges = new CredentialGauges(currentFingerprint, openByFingerprint);
    }

    /** The latest snapshot of the credentials in use; safe from any thread. */
    public CredentialGauges credentialGauges() {
        return credentialGauges;
    }

    /** The latest snapshot of the connection counts; safe from any thread. */
    public Gauges gauges() {
        return gauges;
    }

    public long inUse() {
        return inUse.sum();
    }

    /** Leases handed out since the pool was made, the proxy's own (login probes, cleanups) included. */
    public long leasesTotal() {
        return leasesTotal.sum();
    }

    public long openedTotal() {
        return opened.sum();
    }

    public long waitCount() {
        return waitCount.sum();
    }

    public double waitSeconds() {
        return waitNanos.sum() / 1e9;
    }

    public long maxIdleClosed() {
        return maxIdleClosed.sum();
    }

    public long maxIdleTimeClosed() {
        return maxIdleTimeClosed.sum();
    }

    public long maxLifetimeClosed() {
        return maxLifetimeClosed.sum();
    }

    /** A client sent a Parse of a named statement (PgBouncer's client_parse_count). */
    public void clientParsed() {
        clientParses.increment();
    }

    /** The proxy sent a backend a Parse of a named statement (PgBouncer's server_parse_count). */
    public void serverParsed() {
        serverParses.increment();
    }

    /**
     * Where the pool's client sessions report each transaction's lease time, each query (one ReadyForQuery: a
     * simple Query or an extended-protocol group up to Sync) and the bytes they exchanged with their clients: the
     * console's SHOW STATS, with PgBouncer's meanings. Called on the loop; no allocation.
     */
    public ProxyEvents.Tenant traffic() {
        return traffic;
    }

    /**
     * Client transactions that ended (PgBouncer's xact_count): each lease a client's transaction or autocommit
     * statement had, unlike {@link #leasesTotal}, which also counts the proxy's own leases (login probes, cleanups).
     */
    public long transactionCount() {
        return transactions.sum();
    }

    /** Time backends were leased for those transactions (PgBouncer's xact_time), in nanoseconds. */
    public long transactionNanos() {
        return transactionNanos.sum();
    }

    /** ReadyForQuery messages passed to clients (PgBouncer's query_count). */
    public long queryCount() {
        return queries.sum();
    }

    /** From each query's first message to the backend to its ReadyForQuery (PgBouncer's query_time). */
    public long queryNanos() {
        return queryNanos.sum();
    }

    /** Bytes received from the pool's clients (PgBouncer's total_received). */
    public long bytesFromClients() {
        return bytesFromClients.sum();
    }

    /** Bytes sent to the pool's clients (PgBouncer's total_sent). */
    public long bytesToClients() {
        return bytesToClients.sum();
    }

    public long clientParseCount() {
        return clientParses.sum();
    }

    public long serverParseCount() {
        return serverParses.sum();
    }
}
