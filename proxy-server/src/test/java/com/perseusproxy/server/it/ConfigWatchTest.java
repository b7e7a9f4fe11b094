package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code WatchConfigFile}: a proxy process reloads when its config file changes, with no SIGHUP, in each way a file
 * is changed in practice: written in place, replaced by a rename (editors), and swapped by a Kubernetes ConfigMap
 * volume, whose file is a symlink through {@code ..data}, itself a symlink to a timestamped directory that the
 * kubelet replaces. An invalid file keeps the running config. What is checked is the pool's MaxOpen as
 * {@code /metrics} reports it, so each step is a reload that was validated and applied.
 */
class ConfigWatchTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void aChangedFileIsReloadedHoweverItWasChanged() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's reload is what is tested");
        Path dir = Files.createTempDirectory("perseus-watch");
        int port = OpsProxy.freePort();
        int metricsPort = OpsProxy.freePort();
        // The layout of a ConfigMap volume: config.json -> ..data/config.json, ..data -> ..v1
        Files.createDirectory(dir.resolve("..v1"));
        Files.createSymbolicLink(dir.resolve("..data"), Path.of("..v1"));
        Path config = dir.resolve("config.json");
        Files.createSymbolicLink(config, Path.of("..data", "config.json"));
        Path v1 = dir.resolve("..v1").resolve("config.json");
        Files.writeString(v1, config(port, metricsPort, 3));
        Path log = dir.resolve("proxy.log");
        Process proxy = OpsProxy.spawn(config, log);
        try {
            OpsProxy.awaitLog(log, "serving /metrics", 60);
            OpsProxy.awaitLog(log, "WatchConfigFile: reloading when", 10);
            Target target = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", port);
            query(target); // makes the pool whose MaxOpen /metrics shows
            awaitMaxOpen(metricsPort, 3);

            Files.writeString(v1, config(port, metricsPort, 2)); // in place
            awaitMaxOpen(metricsPort, 2);

            Path temp = dir.resolve("..v1").resolve(".config.json.swp");
            Files.writeString(temp, config(port, metricsPort, 4));
            Files.move(temp, v1, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING); // by rename
            awaitMaxOpen(metricsPort, 4);

            Files.writeString(temp, config(port, metricsPort, 4).replace("\"MaxOpen\"", "\"MaxOpn\""));
            Files.move(temp, v1, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            OpsProxy.awaitLog(log, "config file change: the config file is invalid, keeping the running"
                    + " configuration", 15);
            assertEquals(4.0, maxOpen(metricsPort), "an invalid file changes nothing");
            assertEquals("1", query(target), "and the proxy serves on");

            Files.createDirectory(dir.resolve("..v2")); // the kubelet's swap: new directory, new ..data link
            Files.writeString(dir.resolve("..v2").resolve("config.json"), config(port, metricsPort, 5));
            Files.createSymbolicLink(dir.resolve("..data_tmp"), Path.of("..v2"));
            Files.move(dir.resolve("..data_tmp"), dir.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
            awaitMaxOpen(metricsPort, 5);
            assertEquals("1", query(target));
            assertTrue(proxy.isAlive(), Files.readString(log));
        } finally {
            proxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String config(int port, int metricsPort, int maxOpen) {
        return OpsProxy.config("127.0.0.1:" + port, OpsProxy.authDsn(), maxOpen, "",
                ", \"MetricsAddress\": \"127.0.0.1:" + metricsPort + "\", \"WatchConfigFile\": true");
    }

    private static String query(Target target) throws Exception {
        try (Connection c = target.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select 1")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /** perseus_max_open_connections of the one pool (sampled each second by the pool housekeeping). */
    private static double maxOpen(int metricsPort) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics"))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        return MetricsUnderLoadTest.samples(body).entrySet().stream()
                .filter(e -> e.getKey().startsWith("perseus_max_open_connections{"))
                .map(Map.Entry::getValue).findFirst().orElse(-1.0);
    }

    private static void awaitMaxOpen(int metricsPort, int expected) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15); // two polls, a reload and a sample
        double last = -1;
        while (System.nanoTime() < deadline) {
            last = maxOpen(metricsPort);
            if (last == expected) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("MaxOpen on /metrics is " + last + ", expected " + expected);
    }
}
