package com.perseusproxy.server;

import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.demo.DemoMode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * {@code java -jar perseus.jar -config FILE} (Perseus's flag; {@code --config} works too) runs the proxy;
 * {@code --demo} runs it against an embedded PostgreSQL with sample tenants.
 */
public final class Main {

    private Main() {
    }

    /**
     * Netty sizes its pooled allocator at 2 arenas per core (heap and direct) of 16 MiB chunks each; on a big host that
     * is far more than a sidecar with one data loop ever touches. Two arenas of each serve the accept and data loops
     * without contention. Set before any Netty class loads (Netty reads them once); an explicit -D wins.
     */
    static final java.util.Map<String, String> NETTY_DEFAULTS = java.util.Map.of(
            "io.netty.allocator.numDirectArenas", "2",
            "io.netty.allocator.numHeapArenas", "2");

    static void applyNettyDefaults() {
        NETTY_DEFAULTS.forEach((key, value) -> {
            if (System.getProperty(key) == null) {
                System.setProperty(key, value);
            }
        });
    }

    public static void main(String[] args) throws Exception {
        applyNettyDefaults();
        if (args.length == 1 && (args[0].equals("--demo") || args[0].equals("-demo"))) {
            DemoMode.run();
            return;
        }
        Path configFile = configPath(args);
        if (configFile == null) {
            System.err.println("usage: java -jar perseus.jar -config path/to/config.json\n"
                    + "       java -jar perseus.jar --demo     (embedded PostgreSQL, sample tenants)");
            System.exit(2);
        }
        ProxyConfig config;
        try {
            config = ProxyConfig.load(configFile);
        } catch (ConfigException e) {
            System.err.println("perseus: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logging.configure(config.log());
        // The handler goes in before the port opens: a SIGHUP sent as soon as "listening on" is logged must reload,
        // not stop the JVM (its default for SIGHUP). One that comes even earlier finds no service and is ignored.
        java.util.concurrent.atomic.AtomicReference<PerseusService> started =
                new java.util.concurrent.atomic.AtomicReference<>();
        reloadOnSighup(started, configFile);
        PerseusService service;
        try {
            service = PerseusService.start(config);
        } catch (IOException | RuntimeException e) {
            // The messages say what to change (a port in use, an unreadable key file); a stack trace would bury it.
            System.err.println("perseus: cannot start: " + (e.getMessage() != null ? e.getMessage() : e));
            System.exit(1);
            return;
        }
        started.set(service);
        runUntilStopped(service);
    }

    /**
     * SIGHUP re-reads the config file and applies its pool settings, as Perseus does. (Without a handler the JVM
     * would treat SIGHUP as a request to exit.) A file that no longer parses is reported and ignored.
     */
    private static void reloadOnSighup(java.util.concurrent.atomic.AtomicReference<PerseusService> started,
                                       Path configFile) {
        try {
            Signal.handle(new Signal("HUP"), signal -> {
                PerseusService service = started.get();
                if (service == null) {
                    return; // still starting: it reads the file now anyway
                }
                try {
                    ProxyConfig reloaded = ProxyConfig.load(configFile);
                    service.reloadPoolSettings(reloaded);
                    service.reloadTls(reloaded); // certificate files re-read off the event loop, here
                } catch (ConfigException e) {
                    LoggerFactory.getLogger(Main.class).error("SIGHUP: keeping the current settings: {}",
                            e.getMessage());
                }
            });
        } catch (IllegalArgumentException e) {
            LoggerFactory.getLogger(Main.class).warn("SIGHUP reload is not available on this platform: {}",
                    e.getMessage());
        }
    }

    /** Blocks until SIGTERM/SIGINT, then closes the service. */
    static void runUntilStopped(AutoCloseable service) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                service.close();
            } catch (Exception e) {
                System.err.println("perseus: error while stopping: " + e);
            }
            stopped.countDown();
        }, "perseus-shutdown"));
        stopped.await();
    }

    private static Path configPath(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if ((arg.equals("-config") || arg.equals("--config")) && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (arg.startsWith("-config=") || arg.startsWith("--config=")) {
                return Path.of(arg.substring(arg.indexOf('=') + 1));
            }
        }
        return null;
    }
}
