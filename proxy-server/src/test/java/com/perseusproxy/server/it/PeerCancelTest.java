package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.server.PerseusService;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three replicas behind a real HAProxy (TCP, round robin, /ready checks): pgbench through it fails nothing, psql's
 * cancel finds its replica although the CancelRequest mostly lands on another one, and a forged key cancels nothing.
 */
class PeerCancelTest {

    private static final List<PerseusService> replicas = new ArrayList<>();
    private static HaProxy haproxy;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's replicas are what is tested");
        String dsn = PeerBed.authDsn();
        for (int i = 1; i <= 3; i++) {
            replicas.add(PeerBed.replica(dsn, "cancel-r" + i, 4, ""));
        }
        PeerBed.awaitLive(replicas, 3, 15);
        haproxy = HaProxy.start(replicas);
    }

    @AfterAll
    static void stop() throws Exception {
        if (haproxy != null) {
            haproxy.close();
        }
        replicas.forEach(PerseusService::close);
    }

    private static Target viaLb(com.perseusproxy.server.demo.SampleDatabase.SampleTenant tenant) {
        return Targets.viaProxy(tenant, "127.0.0.1", haproxy.port());
    }

    @Test
    void eachReplicaHasItsOwnSlot() throws Exception {
        assertEquals(3, replicas.stream().map(r -> r.peers().ownSlot()).distinct().filter(s -> s > 0).count(),
                replicas.stream().map(r -> r.peers().view().toString()).toList().toString());
        for (PerseusService r : replicas) {
            assertEquals(3.0, PeerBed.metric(r, "perseus_peer_live_replicas"), "every replica sees three live");
        }
    }

    @Test
    void pgbenchThroughTheLoadBalancerFailsNothing() throws Exception {
        PgTools.require("pgbench");
        OpsReloadTest.initialisePgbench();
        Target bench = viaLb(Fixtures.BENCH);
        PgTools.Result r = PgTools.run(PgTools.pgbench(bench, "--no-vacuum", "-c", "6", "-j", "2", "-T", "6"),
                bench, Duration.ofSeconds(60));
        assertTrue(r.ok(), r.describe());
        Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(r.stdout());
        if (failed.find()) {
            assertEquals(0, Integer.parseInt(failed.group(1)), r.describe());
        }
        assertTrue(r.stdout().contains("number of transactions actually processed"), r.describe());
    }

    @Test
    void psqlCancelFindsItsReplicaTwentyTimes() throws Exception {
        PgTools.require("psql");
        long forwardedBefore = forwarded();
        long receivedBefore = received();
        Target target = viaLb(Fixtures.TENANT_A);
        for (int i = 1; i <= 20; i++) {
            String marker = "pg_sleep(30.00" + i + ")";
            Process psql = PgTools.start(PgTools.psql(target, "-c", "select " + marker), target);
            awaitRunning(marker);
            OpsProxy.signal(psql, "INT"); // psql sends a CancelRequest on a new connection through HAProxy
            assertTrue(psql.waitFor(10, TimeUnit.SECONDS), "attempt " + i + ": the query was not cancelled");
            String out = new String(psql.getInputStream().readAllBytes());
            assertTrue(out.contains("canceling statement due to user request"), "attempt " + i + ": " + out);
        }
        long forwarded = forwarded() - forwardedBefore;
        assertTrue(forwarded > 0, "some cancels landed on another replica and were forwarded");
        assertEquals(forwarded, received() - receivedBefore, "every forwarded cancel reached its replica");
    }

    @Test
    void aForgedKeyCancelsNothing() throws Exception {
        Target target = viaLb(Fixtures.TENANT_B);
        try (PgWire victim = PgWire.open("127.0.0.1", haproxy.port(), Duration.ofSeconds(15));
             Connection jdbc = target.connect();
             Statement st = jdbc.createStatement()) {
            PgWire.Login login = victim.login(target);
            CompletableFuture<Boolean> sleeping = CompletableFuture.supplyAsync(() -> {
                try (ResultSet rs = st.executeQuery("select pg_sleep(2) is not null")) {
                    return rs.next() && rs.getBoolean(1);
                } catch (SQLException e) {
                    throw new AssertionError("a forged cancel reached this query: " + e.getMessage(), e);
                }
            });
            awaitRunning("pg_sleep(2)");
            long droppedBefore = dropped();
            // The right replica bits with a wrong secret, and keys of slots nobody holds: each replica in turn.
            for (int i = 0; i < 3; i++) {
                PgWire.cancel("127.0.0.1", haproxy.port(), login.backendPid(), login.cancelKey() ^ 0x1234);
                PgWire.cancel("127.0.0.1", haproxy.port(), (200 << 23) | 77, 5);
            }
            assertTrue(sleeping.get(15, TimeUnit.SECONDS), "the query ran to its end");
            assertTrue(dropped() - droppedBefore >= 6, "every forged key was dropped somewhere");
            assertEquals(List.of("1"), victim.queryColumn("select 1"));
            victim.terminate();
        }
    }

    private static long forwarded() throws Exception {
        return sum("perseus_peer_cancels_forwarded_total");
    }

    private static long received() throws Exception {
        return sum("perseus_peer_cancels_received_total");
    }

    private static long dropped() throws Exception {
        return sum("perseus_peer_cancels_dropped_total");
    }

    /** The series summed over the replicas, each read from its own /metrics as an operator's dashboard would. */
    private static long sum(String series) throws Exception {
        long total = 0;
        for (PerseusService r : replicas) {
            total += (long) PeerBed.metric(r, series);
        }
        return total;
    }

    static void awaitRunning(String call) {
        TestPostgres pg = Fixtures.postgres();
        long deadline = System.currentTimeMillis() + 10_000;
        while (pg.queryLong(TestPostgres.APP_DB, "select count(*) from pg_stat_activity where state = 'active'"
                + " and query like '%" + call.replace("'", "''") + "%' and pid <> pg_backend_pid()") == 0) {
            assertTrue(System.currentTimeMillis() < deadline, call + " never started");
            TestPostgres.sleep(20);
        }
    }
}
