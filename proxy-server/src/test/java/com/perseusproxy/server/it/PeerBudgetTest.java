package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.server.PerseusService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * GlobalMaxOpen across replicas: 6 over three replicas is 2 each, so PostgreSQL never sees more than 6 backends of
 * that destination under load; when one replica stops, the other two re-split to 3 each; when a third joins again,
 * the three never hold more than 6 together on the way back to 2 each (the published bounds, docs/PEERS.md).
 */
class PeerBudgetTest {

    private static final String BACKENDS = "select count(*) from pg_stat_activity where datname = '"
            + TestPostgres.APP_DB + "' and usename = '" + TestPostgres.APP_OWNER.name() + "'";

    @Test
    void sixAcrossThreeReplicasThenThreeEachAcrossTwo() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's budget is what is tested");
        PgTools.require("pgbench");
        OpsReloadTest.initialisePgbench();
        TestPostgres pg = Fixtures.postgres();
        String dsn = PeerBed.authDsn();
        // The table as the first version of the peers created it, without bounds: the replicas must add the column.
        pg.execute(PeerBed.AUTH_DB, "CREATE TABLE perseus_peers (id character varying(253) PRIMARY KEY,"
                + " slot smallint NOT NULL UNIQUE CHECK (slot BETWEEN 1 AND 255),"
                + " address character varying(300) NOT NULL, started_at timestamp with time zone NOT NULL,"
                + " heartbeat_at timestamp with time zone NOT NULL)");
        long others = pg.queryLong(TestPostgres.APP_DB, BACKENDS); // other tests' proxies' idle connections
        List<PerseusService> replicas = new ArrayList<>();
        List<Process> loads = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                replicas.add(PeerBed.replica(dsn, "budget-r" + i, 5, ", \"GlobalMaxOpen\": 6"));
            }
            PeerBed.awaitLive(replicas, 3, 15);
            assertEquals(1, pg.queryLong(PeerBed.AUTH_DB, "select count(*) from information_schema.columns where"
                    + " table_name = 'perseus_peers' and column_name = 'bounds'"), "the upgrade added the column");
            for (PerseusService r : replicas) {
                Target bench = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", r.port());
                loads.add(PgTools.start(PgTools.pgbench(bench, "--no-vacuum", "-c", "4", "-j", "1", "-T", "45"),
                        bench));
            }
            long peak = 0;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
            while (System.nanoTime() < until) {
                peak = Math.max(peak, pg.queryLong(TestPostgres.APP_DB, BACKENDS) - others);
                Thread.sleep(100);
            }
            assertTrue(peak <= 6, "at most 6 backends across three replicas, saw " + peak);
            for (PerseusService r : replicas) {
                assertEquals(2, pool(r).openCount(), "each replica's share is 2");
                assertEquals(2.0, budgetShare(r), "/metrics shows the share");
            }

            PerseusService leaving = replicas.remove(2);
            leaving.close(); // its row goes, the others re-split at their next heartbeat
            PeerBed.awaitLive(replicas, 2, 10);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && !replicas.stream().allMatch(r -> pool(r).openCount() == 3)) {
                Thread.sleep(100);
            }
            for (PerseusService r : replicas) {
                assertEquals(3, pool(r).openCount(), "each of the two remaining replicas grows to 3");
                assertEquals(3.0, budgetShare(r), "/metrics shows the new share");
                assertEquals(2.0, PeerBed.metric(r, "perseus_peer_live_replicas"), "two replicas live");
            }
            until = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            while (System.nanoTime() < until) {
                peak = Math.max(peak, pg.queryLong(TestPostgres.APP_DB, BACKENDS) - others);
                Thread.sleep(100);
            }
            assertTrue(peak <= 6, "still at most 6 backends, saw " + peak);

            // A third replica joins while the two hold 3 each under load: it may open only what the others'
            // published bounds leave, so it grows as they shrink, and the total never passes 6 on the way.
            PerseusService joiner = PeerBed.replica(dsn, "budget-r4", 5, ", \"GlobalMaxOpen\": 6");
            replicas.add(joiner);
            Target joinerBench = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", joiner.port());
            loads.add(PgTools.start(PgTools.pgbench(joinerBench, "--no-vacuum", "-c", "4", "-j", "1", "-T", "20"),
                    joinerBench));
            long joinPeak = 0;
            int heldPeak = 0;
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            long lastSql = 0;
            while (System.nanoTime() < deadline && !replicas.stream().allMatch(r -> openCountOrZero(r) == 2)) {
                heldPeak = Math.max(heldPeak, replicas.stream().mapToInt(PeerBudgetTest::openCountOrZero).sum());
                if (System.nanoTime() - lastSql > TimeUnit.MILLISECONDS.toNanos(100)) {
                    joinPeak = Math.max(joinPeak, pg.queryLong(TestPostgres.APP_DB, BACKENDS) - others);
                    lastSql = System.nanoTime();
                }
                Thread.sleep(5);
            }
            for (PerseusService r : replicas) {
                assertEquals(2, pool(r).openCount(), "three replicas again, 2 each");
            }
            assertTrue(heldPeak <= 6, "the replicas never held more than 6 together while one joined: " + heldPeak);
            assertTrue(joinPeak <= 6, "PostgreSQL never saw more than 6 while one joined: " + joinPeak);
        } finally {
            loads.forEach(Process::destroyForcibly);
            for (Process p : loads) {
                p.waitFor(10, TimeUnit.SECONDS);
            }
            replicas.forEach(PerseusService::close);
        }
    }

    /** perseus_peer_budget_share of the bench destination (the only series: the only pool with a budget). */
    private static double budgetShare(PerseusService replica) throws Exception {
        java.util.Map<String, Double> shares = new java.util.HashMap<>(PeerBed.metrics(replica));
        shares.keySet().removeIf(series -> !series.startsWith("perseus_peer_budget_share{"));
        assertEquals(1, shares.size(), "one destination with a budget: " + shares);
        Destination d = pool(replica).destination();
        String series = shares.keySet().iterator().next();
        assertTrue(series.contains("dest_db=\"" + d.database() + "\"") && series.contains(d.host()), series);
        return shares.values().iterator().next();
    }

    /** Open connections of the replica's pool, 0 before its first client made it. */
    private static int openCountOrZero(PerseusService replica) {
        java.util.Iterator<BackendPool> pools = replica.proxy().pools().pools().iterator();
        return pools.hasNext() ? pools.next().openCount() : 0;
    }

    /** The replica's pool of the bench destination (the only one its clients use). */
    private static BackendPool pool(PerseusService replica) {
        return replica.proxy().pools().pools().iterator().next();
    }
}
