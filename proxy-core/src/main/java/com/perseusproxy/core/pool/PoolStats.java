package com.perseusproxy.core.pool;

import java.util.concurrent.atomic.LongAdder;

/**
 * Counters of one pool, written on its event loop and read by the metrics endpoint from any thread. Names follow
 * Perseus's metrics (Go's sql.DBStats).
 */
public final class PoolStats {
    private final LongAdder inUse = new LongAdder();
    private final LongAdder opened = new LongAdder();
    private final LongAdder waitCount = new LongAdder();
    private final LongAdder waitNanos = new LongAdder();
    private final LongAdder maxIdleClosed = new LongAdder();
    private final LongAdder maxIdleTimeClosed = new LongAdder();
    private final LongAdder maxLifetimeClosed = new LongAdder();
    private final LongAdder clientParses = new LongAdder();
    private final LongAdder serverParses = new LongAdder();

    void leased() {
        inUse.increment();
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

    public long inUse() {
        return inUse.sum();
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

    public long clientParseCount() {
        return clientParses.sum();
    }

    public long serverParseCount() {
        return serverParses.sum();
    }
}
