package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The full reload (SIGHUP): at any moment from start, under load, and with an invalid file. */
class OpsReloadTest {

    private static final String BACKENDS = "select count(*) from pg_stat_activity where datname = '"
            + TestPostgres.APP_DB + "' and usename = '" + TestPostgres.APP_OWNER.name() + "'";

    /** pgbench's tables in the bench tenant's schema, made once (PgbenchTest may have made them already). */
    static synchronized void initialisePgbench() {
        TestPostgres pg = Fixtures.postgres();
        if (pg.queryLong(TestPostgres.APP_DB, "select count(*) from pg_tables where schemaname = 'bench'"
                + " and tablename = 'pgbench_accounts'") > 0) {
            return;
        }
        Target target = Targets.forTenant(Fixtures.BENCH);
        PgTools.Result r = PgTools.run(PgTools.pgbench(target, "-i", "-s", "1", "-q"), target,
                Duration.ofSeconds(180));
        assertTrue(r.ok(), r.describe());
    }

    private static boolean hasKill() {
        return new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute();
    }

    /** A SIGHUP sent the moment the port accepts, five times over, never stops the process. */
    @Test
    void earlySighupNeverStopsTheProcess() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's reload is what is tested");
        assumeTrue(hasKill(), "no kill command");
        for (int attempt = 1; attempt <= 5; attempt++) {
            Path dir = Files.createTempDirectory("perseus-early-hup");
            int port = OpsProxy.freePort();
            Path config = dir.resolve("config.json");
            Files.writeString(config, OpsProxy.config("127.0.0.1:" + port, OpsProxy.authDsn(), 2, "", ""));
            Path log = dir.resolve("proxy.log");
            Process proxy = OpsProxy.spawn(config, log);
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                boolean accepted = false;
                while (!accepted && System.nanoTime() < deadline && proxy.isAlive()) {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                        accepted = true;
                    } catch (java.io.IOException notYet) {
                        Thread.sleep(2);
                    }
                }
                assertTrue(accepted, "attempt " + attempt + ": the port never accepted\n" + Files.readString(log));
                OpsProxy.signal(proxy, "HUP");
                OpsProxy.awaitLog(log, "reloaded pool settings", 30);
                Thread.sleep(300);
                assertTrue(proxy.isAlive(), "attempt " + attempt + ": SIGHUP stopped the proxy\n"
                        + Files.readString(log));
                Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", port).connect().close();
            } finally {
                proxy.destroy(); // SIGTERM: the graceful shutdown, which exits 0
                assertTrue(proxy.waitFor(30, TimeUnit.SECONDS));
                assertEquals(0, proxy.exitValue(), Files.readString(log));
            }
        }
    }

    /** An invalid file is rejected with the reason logged, and the running settings stay. */
    @Test
    void invalidReloadKeepsTheRunningConfig() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's reload is what is tested");
        assumeTrue(hasKill(), "no kill command");
        Path dir = Files.createTempDirectory("perseus-bad-hup");
        int port = OpsProxy.freePort();
        Path config = dir.resolve("config.json");
        Files.writeString(config, OpsProxy.config("127.0.0.1:" + port, OpsProxy.authDsn(), 2, "", ""));
        Path log = dir.resolve("proxy.log");
        Process proxy = OpsProxy.spawn(config, log);
        try {
            OpsProxy.awaitLog(log, "listening on", 60);
            String good = Files.readString(config);
            Files.writeString(config, good.replace("\"MaxOpen\": 2", "\"MaxOpen\": 0")
                    .replace("\"ListenAddress\": \"127.0.0.1:" + port, "\"ListenAddress\": \"127.0.0.1:1"));
            OpsProxy.signal(proxy, "HUP");
            OpsProxy.awaitLog(log, "keeping the running configuration", 30);
            String text = Files.readString(log);
            assertTrue(text.contains("PoolSettings.MaxOpen"), "the reason names the key\n" + text);
            assertTrue(proxy.isAlive());
            Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", port).connect().close();

            // A valid file with a restart-only change: the rest applies, the restart-only key is named.
            Files.writeString(config, good.replace("\"MaxOpen\": 2", "\"MaxOpen\": 4")
                    .replace("\"ListenAddress\": \"127.0.0.1:" + port, "\"ListenAddress\": \"127.0.0.1:"
                            + OpsProxy.freePort()));
            OpsProxy.signal(proxy, "HUP");
            OpsProxy.awaitLog(log, "maxOpen=4", 30);
            OpsProxy.awaitLog(log, "applied only after a restart", 10);
            assertTrue(Files.readString(log).contains("ListenAddress"), Files.readString(log));
            Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", port).connect().close();
        } finally {
            proxy.destroy();
            proxy.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * MaxOpen 5 -> 2 -> 5 under a pgbench load: no transaction fails, the surplus closes as it is returned (the server
     * then sees at most 2 of the pool's connections), and the raised limit lets waiters in at once.
     */
    @Test
    void maxOpenShrinksAndGrowsUnderPgbenchLoad() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's reload is what is tested");
        PgTools.require("pgbench");
        initialisePgbench();
        TestPostgres pg = Fixtures.postgres();
        long others = pg.queryLong(TestPostgres.APP_DB, BACKENDS); // other proxies' idle connections
        String five = OpsProxy.config("127.0.0.1:0", OpsProxy.authDsn(), 5, "", "");
        try (PerseusService proxy = OpsProxy.start(five)) {
            Target bench = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", proxy.port());
            Process load = PgTools.start(PgTools.pgbench(bench, "--no-vacuum", "-M", "extended", "-c", "10",
                    "-j", "2", "-T", "14"), bench);
            Thread.sleep(3000);
            BackendPool pool = proxy.proxy().pools().pools().iterator().next();
            assertEquals(5, pool.openCount(), "ten clients keep five connections busy");

            proxy.reload(ProxyConfig.parse(five.replace("\"MaxOpen\": 5", "\"MaxOpen\": 2")
                    .replace("\"MaxIdle\": 5", "\"MaxIdle\": 2"), Map.of()));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            long seen = Long.MAX_VALUE;
            while (System.nanoTime() < deadline) {
                seen = pg.queryLong(TestPostgres.APP_DB, BACKENDS) - others;
                if (seen <= 2) {
                    break;
                }
                Thread.sleep(100);
            }
            assertTrue(seen <= 2, "backend connections after the shrink: " + seen);
            for (int i = 0; i < 10; i++) { // and it stays there while the load goes on
                Thread.sleep(200);
                long now = pg.queryLong(TestPostgres.APP_DB, BACKENDS) - others;
                assertTrue(now <= 2, "backend connections under MaxOpen 2: " + now);
            }

            proxy.reload(ProxyConfig.parse(five, Map.of()));
            Thread.sleep(1000);
            assertTrue(pool.openCount() > 2, "a raised MaxOpen lets waiters in: " + pool.openCount() + " open");

            assertTrue(load.waitFor(60, TimeUnit.SECONDS), "pgbench finishes");
            String output = new String(load.getInputStream().readAllBytes());
            assertEquals(0, load.exitValue(), output);
            Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(output);
            if (failed.find()) {
                assertEquals(0, Integer.parseInt(failed.group(1)), output);
            }
            assertTrue(!output.contains("aborted"), output);
        }
    }
}
