package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart behind a real HAProxy (TCP, round robin, {@code /ready} checked every 300 ms): three replicas,
 * each in turn gets SIGTERM, drains and exits, and a new process starts on its ports. Meanwhile {@code pgbench -C}
 * (a new connection per transaction) sees no failed transaction and no refused connection, and pgjdbc clients that
 * keep their connections see every transaction they started commit, and 57P01 only between transactions.
 *
 * <p>The order that makes this work: {@code /ready} fails at once, the replica goes on accepting for
 * {@code ShutdownSettings.ReadinessGraceSecs} (here 1 s, over three health checks) so HAProxy takes it out before
 * its listener closes, then the drain lets transactions in flight finish.
 */
class RollingRestartTest {

    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    /** One replica's ports and config, which a restart keeps, and its current process. */
    private static final class Replica {
        final int number;
        final int port = OpsProxy.freePort();
        final int metricsPort = OpsProxy.freePort();
        final Path config;
        Process process;
        Path log;
        int generation;

        Replica(int number, Path dir, String authDsn) throws Exception {
            this.number = number;
            this.config = dir.resolve("r" + number + ".json");
            Files.writeString(config, OpsProxy.config("127.0.0.1:" + port, authDsn, 4, "",
                    ", \"MetricsAddress\": \"127.0.0.1:" + metricsPort + "\""
                            + ", \"ShutdownSettings\": { \"DrainTimeoutSecs\": 20, \"ReadinessGraceSecs\": 1 }"
                            + ", \"PeerSettings\": { \"Id\": \"rolling-r" + number + "\", \"HeartbeatSecs\": 1 }"));
        }

        void spawn() throws Exception {
            log = config.resolveSibling("r" + number + "-" + (++generation) + ".log");
            process = OpsProxy.spawn(config, log);
            OpsProxy.awaitLog(log, "listening on", 60);
            OpsProxy.awaitLog(log, "serving /metrics", 30);
            ShutdownTest.awaitStatus(metricsPort, "/ready", 200, 30);
        }

        String logText() throws Exception {
            return Files.readString(log);
        }
    }

    @Test
    void restartingEveryReplicaInTurnFailsNothing() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's shutdown is what is tested");
        assumeTrue(new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute(), "no kill command");
        PgTools.require("pgbench");
        OpsReloadTest.initialisePgbench();
        Path dir = Files.createTempDirectory("perseus-rolling");
        String dsn = PeerBed.authDsn();
        List<Replica> replicas = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            replicas.add(new Replica(i, dir, dsn));
        }
        HaProxy haproxy = null;
        PersistentClients clients = null;
        Thread bench = null;
        AtomicBoolean benchStop = new AtomicBoolean();
        ConcurrentLinkedQueue<String> benchRuns = new ConcurrentLinkedQueue<>();
        try {
            for (Replica r : replicas) {
                r.spawn();
            }
            haproxy = HaProxy.startServers(replicas.stream()
                    .map(r -> new HaProxy.Server(r.port, r.metricsPort)).toList());
            Target viaLb = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", haproxy.port());
            clients = PersistentClients.start(viaLb, Targets.direct(Fixtures.BENCH), 4);
            // pgbench -C cannot outlive a fixed -T, so short runs back to back cover the whole restart.
            bench = new Thread(() -> {
                while (!benchStop.get()) {
                    PgTools.Result r = PgTools.run(PgTools.pgbench(viaLb, "--no-vacuum", "-C", "-c", "3", "-j", "1",
                            "-T", "4"), viaLb, java.time.Duration.ofSeconds(60));
                    benchRuns.add(r.describe());
                }
            }, "pgbench-loop");
            bench.setDaemon(true);
            bench.start();
            Thread.sleep(3000);

            for (Replica r : replicas) {
                Process old = r.process;
                Path oldLog = r.log;
                OpsProxy.signal(old, "TERM");
                assertTrue(old.waitFor(40, TimeUnit.SECONDS), "replica " + r.number + " did not exit:\n"
                        + Files.readString(oldLog));
                String text = Files.readString(oldLog);
                assertEquals(0, old.exitValue(), text);
                assertTrue(text.contains("still accepting for 1 s"), "the grace came first:\n" + text);
                assertTrue(text.contains("shut down cleanly"), "every transaction finished:\n" + text);
                r.spawn();
                Thread.sleep(1500); // HAProxy's next checks put it back; clients reconnecting may land on it
            }
            Thread.sleep(2000);
        } finally {
            benchStop.set(true);
            if (bench != null) {
                bench.join(90_000);
            }
            if (clients != null) {
                clients.close();
            }
            if (haproxy != null) {
                haproxy.close();
            }
            for (Replica r : replicas) {
                if (r.process != null) {
                    r.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }

        assertFalse(benchRuns.isEmpty(), "pgbench ran");
        for (String run : benchRuns) {
            assertTrue(run.startsWith("exit 0 "), run);
            assertFalse(run.contains("aborted") || run.contains("error") || run.contains("could not connect")
                    || run.contains("server closed the connection"), "a refused or failed connection:\n" + run);
            Matcher failed = FAILED.matcher(run);
            if (failed.find()) {
                assertEquals(0, Integer.parseInt(failed.group(1)), run);
            }
            assertTrue(run.contains("number of transactions actually processed"), run);
        }

        List<PersistentClients.Failure> failures = clients.failures();
        for (PersistentClients.Failure f : failures) {
            assertEquals(PersistentClients.Step.FIRST_STATEMENT, f.step(),
                    "a client met the shutdown inside a transaction or at connect: " + failures);
            assertEquals("57P01", f.sqlState(), "the shutdown's error, between transactions: " + failures);
        }
        assertTrue(failures.size() >= 1, "some persistent client was on a restarted replica");
        java.util.Set<String> committed = clients.committed();
        assertTrue(committed.size() > 50, "the clients ran transactions throughout: " + committed.size());
        assertEquals(committed, PersistentClients.rows(Targets.direct(Fixtures.BENCH)),
                "the table holds exactly the transactions whose COMMIT succeeded");
    }
}
