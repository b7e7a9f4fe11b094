package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Proxies for the operations tests (timeouts, reload, shutdown, readiness): a config written as an operator would,
 * run in this JVM or as a child {@code java} process (signals must reach a process of its own).
 */
final class OpsProxy {

    private OpsProxy() {
    }

    /** The sample tenants' auth database. */
    static String authDsn() {
        TestPostgres pg = Fixtures.postgres();
        return "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=4".formatted(pg.host(), pg.port(),
                TestPostgres.AUTH_DB);
    }

    /**
     * A config with the given listen address, pool size and extra sections.
     *
     * @param extraPool  more PoolSettings keys, as JSON text starting with a comma, or ""
     * @param extraTop   more top-level sections, as JSON text starting with a comma, or ""
     */
    static String config(String listen, String authDsn, int maxOpen, String extraPool, String extraTop) {
        Fixtures.postgres();
        return """
                {
                  "ListenAddress": "%s",
                  "AuthDBSettings": { "AuthDBDSN": "%s", "AuthQueryTimeoutSecs": 5 },
                  "PoolSettings": { "MaxIdle": %d, "MaxOpen": %d, "QueryWaitTimeoutSecs": 60%s },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "LogSettings": { "Level": "INFO", "Json": false }%s
                }
                """.formatted(listen, authDsn, maxOpen, maxOpen, extraPool,
                Fixtures.localKeyFile().toString().replace("\\", "\\\\"), extraTop);
    }

    static PerseusService start(String json) {
        try {
            return PerseusService.start(ProxyConfig.parse(json, Map.of()));
        } catch (Exception e) {
            throw new IllegalStateException("could not start a proxy under test: " + e.getMessage(), e);
        }
    }

    /** {@code java ... Main -config FILE} with its output in {@code log}. */
    static Process spawn(Path config, Path log) throws IOException {
        return new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), "com.perseusproxy.server.Main",
                "-config", config.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static void signal(Process process, String signal) throws Exception {
        new ProcessBuilder("kill", "-" + signal, String.valueOf(process.pid())).inheritIO().start().waitFor();
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void awaitLog(Path log, String text, long seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the proxy did not log '" + text + "':\n" + Files.readString(log));
    }
}
