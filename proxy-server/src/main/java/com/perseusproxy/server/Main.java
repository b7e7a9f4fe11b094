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
        // The handlers go in before anything else: a SIGHUP (or SIGTERM) at any moment from here on must reload
        // (or drain), not stop the JVM, which is its default for both. One that comes before the service is up is
        // kept and acted on once it is.
        java.util.concurrent.atomic.AtomicReference<PerseusService> started =
                new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean reloadPending = new java.util.concurrent.atomic.AtomicBoolean();
        reloadOnSighup(started, reloadPending, configFile);
        CountDownLatch stopRequested = new CountDownLatch(1);
        boolean drainOnSignal = stopOnSignals(started, stopRequested);
        ProxyConfig config;
        try {
            config = ProxyConfig.load(configFile);
        } catch (ConfigException e) {
            System.err.println("perseus: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        Logging.configure(config.log());
        PerseusService service;
        try {
            service = PerseusService.start(config);
        } catch (IOException | RuntimeException e) {
            // The messages say what to change (a port in use, an unreadable key file); a stack trace would bury it.
            System.err.println("perseus: cannot start: " + (e.getMessage() != null ? e.getMessage() : e));
            System.exit(1);
            return;
        }
        service.configSource(() -> ProxyConfig.load(configFile)); // the console's RELOAD, as SIGHUP
        service.watchConfigFile(configFile, () -> reload(service, configFile, "config file change"));
        synchronized (reloadPending) {
            started.set(service);
            if (reloadPending.getAndSet(false)) {
                reload(service, configFile, "SIGHUP"); // one came while starting: the file may have changed since
            }
        }
        if (!drainOnSignal) {
            runUntilStopped(service);
            return;
        }
        // The hook still stops the service if the JVM exits some other way; close() runs once.
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "perseus-shutdown"));
        service.stopRequest(stopRequested::countDown); // the console's SHUTDOWN, as SIGTERM
        stopRequested.await();
        service.shutdown();
        System.exit(0); // a clean shutdown, whatever non-daemon threads a library left behind
    }

    /**
     * SIGTERM and SIGINT start the graceful shutdown ({@link PerseusService#shutdown}); a second one closes what is
     * left at once. With its default handlers the JVM would exit at once with status 143 or 130, dropping every
     * transaction in flight. A signal that comes while the service is still starting is acted on once it is up.
     *
     * @return false if the handlers could not be installed (the JVM's shutdown hook then stops the service)
     */
    private static boolean stopOnSignals(java.util.concurrent.atomic.AtomicReference<PerseusService> started,
                                         CountDownLatch stopRequested) {
        java.util.concurrent.atomic.AtomicInteger signals = new java.util.concurrent.atomic.AtomicInteger();
        sun.misc.SignalHandler handler = signal -> {
            if (signals.incrementAndGet() == 1) {
                LoggerFactory.getLogger(Main.class).info("SIG{}: graceful shutdown (send it again to close every"
                        + " connection at once)", signal.getName());
                stopRequested.countDown();
            } else {
                PerseusService service = started.get();
                if (service != null) {
                    service.forceStop();
                }
            }
        };
        try {
            Signal.handle(new Signal("TERM"), handler);
            Signal.handle(new Signal("INT"), handler);
            return true;
        } catch (IllegalArgumentException e) {
            LoggerFactory.getLogger(Main.class).warn("graceful shutdown on SIGTERM is not available on this"
                    + " platform ({}): the proxy stops at once", e.getMessage());
            return false;
        }
    }

    /**
     * SIGHUP re-reads and validates the whole config file and applies what can change live
     * ({@link PerseusService#reload}). (Without a handler the JVM would treat SIGHUP as a request to exit.) A file
     * that no longer parses or validates is reported and ignored: the running config stays.
     */
    private static void reloadOnSighup(java.util.concurrent.atomic.AtomicReference<PerseusService> started,
                                       java.util.concurrent.atomic.AtomicBoolean reloadPending, Path configFile) {
        try {
            Signal.handle(new Signal("HUP"), signal -> {
                PerseusService service;
                synchronized (reloadPending) {
                    service = started.get();
                    if (service == null) {
                        reloadPending.set(true); // still starting: reload once the service is up
                        return;
                    }
                }
                reload(service, configFile, "SIGHUP");
            });
        } catch (IllegalArgumentException e) {
            LoggerFactory.getLogger(Main.class).warn("SIGHUP reload is not available on this platform: {}",
                    e.getMessage());
        }
    }

    /**
     * Runs on the JVM's signal thread, main, or the config-watch thread, never on an event loop: reading the file
     * may block.
     *
     * @param cause what asked for it, for the log ("SIGHUP", "config file change")
     */
    private static void reload(PerseusService service, Path configFile, String cause) {
        try {
            service.reload(ProxyConfig.load(configFile));
        } catch (ConfigException e) {
            LoggerFactory.getLogger(Main.class).error("{}: the config file is invalid, keeping the running"
                    + " configuration: {}", cause, e.getMessage());
        } catch (RuntimeException e) {
            LoggerFactory.getLogger(Main.class).error("{}: reload failed, keeping the running configuration: {}",
                    cause, e.toString());
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
