package com.perseusproxy.core.admin;

import com.perseusproxy.core.pool.PoolStats;
import java.util.Map;

/**
 * The seven counters of SHOW STATS / STATS_TOTALS / STATS_AVERAGES for one database, in PgBouncer's column order
 * and units (counts, bytes, microseconds), and PgBouncer 1.18's way of turning two samples into averages. A pool
 * counts what its client sessions report: each transaction's lease that ended (or an autocommit statement's), each
 * ReadyForQuery (a simple Query, or an extended-protocol group up to Sync: PgBouncer's "query"), the bytes exchanged
 * with clients, and the time clients waited for a backend.
 */
final class StatsColumns {

    static final int XACT_COUNT = 0;
    static final int QUERY_COUNT = 1;
    static final int RECEIVED = 2;
    static final int SENT = 3;
    static final int XACT_TIME = 4;
    static final int QUERY_TIME = 5;
    static final int WAIT_TIME = 6;
    static final int COUNT = 7;

    private StatsColumns() {
    }

    /** Adds one pool's counters to its database's row (PgBouncer counts per database; here a dest_db). */
    static void add(Map<String, long[]> totals, String database, PoolStats pool) {
        long[] t = totals.computeIfAbsent(database, k -> new long[COUNT]);
        t[XACT_COUNT] += pool.transactionCount();
        t[QUERY_COUNT] += pool.queryCount();
        t[RECEIVED] += pool.bytesFromClients();
        t[SENT] += pool.bytesToClients();
        t[XACT_TIME] += pool.transactionNanos() / 1000;
        t[QUERY_TIME] += pool.queryNanos() / 1000;
        t[WAIT_TIME] += (long) (pool.waitSeconds() * 1_000_000);
    }

    /**
     * PgBouncer 1.18's averages between two samples: counts, bytes and wait time per second; transaction and query
     * time per transaction and per query of the period (0 when there was none).
     */
    static long[] averages(long[] now, long[] before, double seconds) {
        long[] avg = new long[COUNT];
        for (int column : new int[] {XACT_COUNT, QUERY_COUNT, RECEIVED, SENT, WAIT_TIME}) {
            avg[column] = Math.round((now[column] - before[column]) / seconds);
        }
        avg[XACT_TIME] = perEvent(now, before, XACT_TIME, XACT_COUNT);
        avg[QUERY_TIME] = perEvent(now, before, QUERY_TIME, QUERY_COUNT);
        return avg;
    }

    private static long perEvent(long[] now, long[] before, int time, int count) {
        long events = now[count] - before[count];
        return events <= 0 ? 0 : (now[time] - before[time]) / events;
    }
}
