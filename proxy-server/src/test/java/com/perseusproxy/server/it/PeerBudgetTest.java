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
 * that destination under load; when one replica stops, the other two re-split to 3 each.
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
        long others = pg.queryLong(TestPostgres.APP_DB, BACKENDS); // other tests' proxies' idle connections
        List<PerseusService> replicas = new ArrayList<>();
        List<Process> loads = new ArrayList<>();
        try {
            for (int i = 1; i <= 3; i++) {
                replicas.add(PeerBed.replica(dsn, "budget-r" + i, 5, ", \"GlobalMaxOpen\": 6"));
            }
            PeerBed.awaitLive(replicas, 3, 15);
            for (PerseusService r : replicas) {
                Target bench = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", r.port());
                loads.add(PgTools.start(PgTools.pgbench(bench, "--no-vacuum", "-c", "4", "-j", "1", "-T", "25"),
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

    /** The replica's pool of the bench destination (the only one its clients use). */
    private static BackendPool pool(PerseusService replica) {
        return replica.proxy().pools().pools().iterator().next();
    }
}
