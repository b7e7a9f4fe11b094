package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM drains the proxy: /ready fails at once, idle clients get 57P01, transactions in flight finish, then the
 * process exits 0. The proxy runs as a child process so the signal reaches it alone.
 */
class ShutdownTest {

    private static final Pattern ABORTED = Pattern.compile("aborted in command (\\d+)");
    /** In pgbench's built-in tpcb-like script, commands 0-3 are \set and 4 is BEGIN. */
    private static final int TPCB_BEGIN = 4;

    private record Child(Process process, Path log, int port, int metricsPort) {
        Target target(com.perseusproxy.server.demo.SampleDatabase.SampleTenant tenant) {
            return Targets.viaProxy(tenant, "127.0.0.1", port);
        }
    }

    private static Child spawn(int drainSecs) throws Exception {
        Path dir = Files.createTempDirectory("perseus-shutdown");
        int port = OpsProxy.freePort();
        int metricsPort = OpsProxy.freePort();
        Path config = dir.resolve("config.json");
        Files.writeString(config, OpsProxy.config("127.0.0.1:" + port, OpsProxy.authDsn(), 5, "",
                ", \"MetricsAddress\": \"127.0.0.1:" + metricsPort + "\", \"ShutdownSettings\": { \"DrainTimeoutSecs\": "
                        + drainSecs + " }"));
        Path log = dir.resolve("proxy.log");
        Child child = new Child(OpsProxy.spawn(config, log), log, port, metricsPort);
        OpsProxy.awaitLog(log, "listening on", 60);
        OpsProxy.awaitLog(log, "serving /metrics", 30);
        return child;
    }

    static int status(int port, String path) {
        try {
            HttpURLConnection http = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL()
                    .openConnection();
            http.setConnectTimeout(2000);
            http.setReadTimeout(5000);
            return http.getResponseCode();
        } catch (java.io.IOException e) {
            return -1;
        }
    }

    static void awaitStatus(int port, String path, int expected, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int last = 0;
        while (System.nanoTime() < deadline) {
            last = status(port, path);
            if (last == expected) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(path + " answered " + last + ", expected " + expected);
    }

    @Test
    void sigtermDuringALongTransactionLetsItCommitThenExitsZero() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's shutdown is what is tested");
        assumeTrue(new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute(), "no kill command");
        Child child = spawn(30);
        try {
            awaitStatus(child.metricsPort(), "/ready", 200, 15);
            String marker = Fixtures.body(Fixtures.TENANT_A, "drain-" + System.nanoTime());
            try (Connection inFlight = child.target(Fixtures.TENANT_A).connect();
                 PgWire idle = PgWire.open("127.0.0.1", child.port(), Duration.ofSeconds(15))) {
                idle.login(child.target(Fixtures.TENANT_B));
                inFlight.setAutoCommit(false);
                try (Statement st = inFlight.createStatement()) {
                    st.execute("insert into notes(body) values ('" + marker + "')");
                }
                OpsProxy.signal(child.process(), "TERM");
                OpsProxy.awaitLog(child.log(), "shutting down", 15);
                assertEquals(503, status(child.metricsPort(), "/ready"), "/ready fails as soon as the drain starts");

                PgWire.Message error = idle.awaitErrorOrClose();
                assertNotNull(error, "the idle client gets an ErrorResponse");
                assertEquals("57P01", error.sqlState(), error.toString());

                assertThrows(SQLException.class, () -> child.target(Fixtures.TENANT_A).connect().close(),
                        "no new connections during the drain");
                Thread.sleep(1000);
                assertTrue(child.process().isAlive(), "the drain waits for the transaction in flight");
                try (Statement st = inFlight.createStatement()) {
                    st.execute("insert into notes(body) values ('" + marker + "')");
                }
                inFlight.commit();
            }
            assertTrue(child.process().waitFor(20, TimeUnit.SECONDS), "the proxy exits once drained\n"
                    + Files.readString(child.log()));
            assertEquals(0, child.process().exitValue(), Files.readString(child.log()));
            assertEquals(2, Fixtures.postgres().queryLong(TestPostgres.APP_DB,
                    "select count(*) from tenant_a.notes where body = '" + marker + "'"), "the transaction committed");
        } finally {
            child.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void sigtermUnderPgbenchLoadFailsNoTransactionThatHadStarted() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's shutdown is what is tested");
        assumeTrue(new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute(), "no kill command");
        PgTools.require("pgbench");
        OpsReloadTest.initialisePgbench();
        Child child = spawn(30);
        try {
            Target bench = child.target(Fixtures.BENCH);
            Process load = PgTools.start(PgTools.pgbench(bench, "--no-vacuum", "-M", "extended", "-c", "8", "-j", "2",
                    "-T", "30"), bench);
            Thread.sleep(4000);
            assertTrue(load.isAlive(), "pgbench runs");
            OpsProxy.signal(child.process(), "TERM");
            assertTrue(load.waitFor(60, TimeUnit.SECONDS), "pgbench ends when the proxy closes its clients");
            String output = new String(load.getInputStream().readAllBytes());
            assertTrue(child.process().waitFor(30, TimeUnit.SECONDS), Files.readString(child.log()));
            assertEquals(0, child.process().exitValue(), Files.readString(child.log()));
            Matcher aborted = ABORTED.matcher(output);
            int clients = 0;
            while (aborted.find()) {
                clients++;
                assertEquals(TPCB_BEGIN, Integer.parseInt(aborted.group(1)),
                        "a client may only be refused at its next BEGIN, never inside a transaction:\n" + output);
            }
            assertTrue(output.contains("57P01") || output.contains("administrator command") || clients == 0, output);
            Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(output);
            if (failed.find()) {
                assertEquals(0, Integer.parseInt(failed.group(1)), output);
            }
        } finally {
            child.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
