package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy (Debian's) in front of replicas: TCP mode, round robin, each replica checked on its metrics port's
 * {@code /ready}, as a load balancer in front of a Deployment would.
 */
final class HaProxy implements AutoCloseable {

    /** How often HAProxy asks each replica's {@code /ready}; one failed check takes a replica out. */
    static final int CHECK_INTERVAL_MILLIS = 300;

    private final Process process;
    private final int port;
    private final Path log;

    private HaProxy(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** A replica as HAProxy sees it: its client port, and the metrics port its {@code /ready} is checked on. */
    record Server(int port, int checkPort) {
    }

    static HaProxy start(List<PerseusService> replicas) throws Exception {
        return startServers(replicas.stream().map(r -> new Server(r.port(), r.metricsPort())).toList());
    }

    /** For replicas run as processes (a rolling restart keeps their ports, so HAProxy's config stays valid). */
    static HaProxy startServers(List<Server> replicas) throws Exception {
        // Debian installs it in /usr/sbin, which a non-root PATH may lack.
        Path haproxy = PgTools.find("haproxy").orElse(Path.of("/usr/sbin/haproxy"));
        PgTools.requirePresent(Files.isExecutable(haproxy), "haproxy is not installed (apt-get install haproxy)");
        int port = OpsProxy.freePort();
        StringBuilder cfg = new StringBuilder("""
                global
                    maxconn 2000
                defaults
                    mode tcp
                    timeout connect 2s
                    timeout client 120s
                    timeout server 120s
                    # A loaded 2-core host can take longer than one check interval to answer /ready: only an answer
                    # (a 503 from a draining replica) or a silence this long takes a replica out, not a slow 200.
                    timeout check 2s
                frontend perseus
                    bind 127.0.0.1:%d
                    default_backend replicas
                backend replicas
                    balance roundrobin
                    option httpchk GET /ready
                    http-check expect status 200
                """.formatted(port));
        int i = 0;
        for (Server r : replicas) {
            cfg.append("    server r").append(++i).append(" 127.0.0.1:").append(r.port())
                    .append(" check port ").append(r.checkPort()).append(" inter ").append(CHECK_INTERVAL_MILLIS)
                    .append("ms fall 1 rise 1\n");
        }
        Path dir = Files.createTempDirectory("perseus-haproxy");
        Path file = dir.resolve("haproxy.cfg");
        Files.writeString(file, cfg.toString());
        Path log = dir.resolve("haproxy.log");
        Process p = new ProcessBuilder(haproxy.toString(), "-db", "-f", file.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HaProxy proxy = new HaProxy(p, port, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                Thread.sleep(1000); // a few health checks
                return proxy;
            } catch (java.io.IOException e) {
                if (!p.isAlive()) {
                    throw new AssertionError("haproxy exited: " + Files.readString(log));
                }
                Thread.sleep(100);
            }
        }
        proxy.close();
        throw new AssertionError("haproxy did not listen: " + Files.readString(log));
    }

    int port() {
        return port;
    }

    String log() throws java.io.IOException {
        return Files.readString(log);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
