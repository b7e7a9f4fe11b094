package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Pool settings change at run time: through the service's reload, and through SIGHUP on a real process. */
class ReloadTest {

    @Test
    void raisedMaxOpenTakesEffectWithoutRestart() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's reload is what is tested");
        try (PerseusService proxy = TestProxy.startDedicated(1)) {
            Target tenant = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", proxy.port());
            tenant.connect().close();
            BackendPool pool = proxy.proxy().pools().pools().iterator().next();
            assertEquals(1, pool.settings().maxOpen());

            proxy.reloadPoolSettings(ProxyConfig.parse("""
                    { "AuthDBSettings": { "AuthDBDSN": "postgres://x@127.0.0.1/x" },
                      "PoolSettings": { "MaxOpen": 3, "MaxIdle": 3 } }""", Map.of()));
            assertEquals(3, pool.settings().maxOpen());

            // Three transactions that overlap in time now get three backend connections.
            CyclicBarrier together = new CyclicBarrier(3);
            ExecutorService threads = Executors.newFixedThreadPool(3);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    done.add(threads.submit(() -> {
                        try (Connection c = tenant.connect(); Statement st = c.createStatement()) {
                            together.await(10, TimeUnit.SECONDS);
                            st.execute("select pg_sleep(0.5)");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                threads.shutdownNow();
            }
            assertTrue(pool.stats().openedTotal() >= 3, "opened " + pool.stats().openedTotal());
        }
    }

    @Test
    void sighupReloadsInsteadOfStoppingTheProcess() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's reload is what is tested");
        assumeTrue(new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute(), "no kill command");
        TestPostgres pg = Fixtures.postgres();
        Path dir = Files.createTempDirectory("perseus-reload");
        Path config = dir.resolve("config.json");
        Path log = dir.resolve("proxy.log");
        Files.writeString(config, """
                { "ListenAddress": "127.0.0.1:0",
                  "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@%s:%d/%s?sslmode=disable" },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "PoolSettings": { "MaxOpen": 2 },
                  "LogSettings": { "Level": "INFO", "Json": false } }
                """.formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB, Fixtures.localKeyFile()));
        Process proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "com.perseusproxy.server.Main", "-config",
                config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            awaitLog(log, "listening on");
            Files.writeString(config, Files.readString(config).replace("\"MaxOpen\": 2", "\"MaxOpen\": 4"));
            new ProcessBuilder("kill", "-HUP", String.valueOf(proxy.pid())).inheritIO().start().waitFor();
            awaitLog(log, "reloaded pool settings");
            assertTrue(Files.readString(log).contains("maxOpen=4"), Files.readString(log));
            assertTrue(proxy.isAlive(), "SIGHUP must not stop the proxy");
        } finally {
            proxy.destroy();
            proxy.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void awaitLog(Path log, String text) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the proxy did not log '" + text + "':\n" + Files.readString(log));
    }
}
