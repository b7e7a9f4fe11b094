package com.perseusproxy.server;

import com.perseusproxy.server.config.ShutdownSettings;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The steps of a graceful shutdown after {@code /ready} has started failing (docs/CONFIG.md, docs/PEERS.md):
 *
 * <pre>
 *  serve as usual ── ReadinessGraceSecs ──► close the listener ── 1 s, then ──► drain: idle clients 57P01, wait
 *  (load balancers notice /ready)           logins under way (≤ 10 s; only     for transactions in flight,
 *                                           with SO_REUSEPORT or a grace)      DrainTimeoutSecs
 * </pre>
 *
 * Runs on the thread that received the signal (Main's), never on an event loop: it sleeps and waits.
 */
final class GracefulShutdown {

    private static final Logger log = LoggerFactory.getLogger(GracefulShutdown.class);
    /** How long connections accepted just before the listener closed get to log in before the drain begins. */
    static final long HANDOVER_MILLIS = 1000;
    /** The longest the handover waits for logins under way (a client that never logs in must not hold it up). */
    static final Duration MAX_LOGIN_WAIT = Duration.ofSeconds(10);
    private static final long STEP_MILLIS = 50;

    private GracefulShutdown() {
    }

    /**
     * @param forced true once a second stop signal came: every wait ends, what is left is closed
     * @return true if every transaction finished within the drain timeout
     */
    static boolean drain(ProxyServer proxy, ShutdownSettings settings, BooleanSupplier forced) {
        Duration drain = settings.drainTimeout();
        Duration grace = settings.readinessGrace();
        try {
            if (!grace.isZero()) {
                // A load balancer learns of the failed /ready only at its next health check and sends new clients
                // until then: a closed listener would refuse them. So serve as usual a little longer.
                log.info("shutting down: /ready fails; still accepting for {} s (ShutdownSettings.ReadinessGraceSecs)"
                        + " so that load balancers stop sending first", grace.toSeconds());
                long graceEnd = System.nanoTime() + grace.toNanos();
                while (!forced.getAsBoolean() && System.nanoTime() < graceEnd) {
                    Thread.sleep(STEP_MILLIS);
                }
            }
            log.info("shutting down: no new connections; waiting up to {} s (ShutdownSettings.DrainTimeoutSecs) for"
                    + " transactions in flight", drain.toSeconds());
            proxy.stopAccepting();
            if ((proxy.reusePort() || !grace.isZero()) && !forced.getAsBoolean()) {
                // Connections accepted just before the listener closed (another process may share the port, or a
                // load balancer's last ones) finish their login and short ones their transaction, instead of
                // meeting 57P01 at login. A login can take seconds on a loaded host (scrypt queue, first probe
                // lease), so after the handover wait for the logins still under way too, boundedly: no new one
                // can start now that the listener is closed.
                Thread.sleep(Math.min(HANDOVER_MILLIS, drain.toMillis()));
                long loginsEnd = System.nanoTime() + Math.min(MAX_LOGIN_WAIT.toNanos(), drain.toNanos());
                while (!forced.getAsBoolean() && proxy.clients().states().login() > 0
                        && System.nanoTime() < loginsEnd) {
                    Thread.sleep(STEP_MILLIS);
                }
            }
            return awaitTransactions(proxy, drain, forced);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            log.warn("shutting down: the drain did not complete normally: {}", e.toString());
        }
        return false;
    }

    private static boolean awaitTransactions(ProxyServer proxy, Duration drain, BooleanSupplier forced)
            throws InterruptedException, ExecutionException, TimeoutException {
        proxy.clients().beginDrainAsync().get(5, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + drain.toNanos();
        while (true) {
            int busy = proxy.clients().busyCountAsync().get(5, TimeUnit.SECONDS);
            if (busy == 0) {
                return true;
            }
            boolean second = forced.getAsBoolean();
            if (second || System.nanoTime() >= deadline) {
                log.warn("shutting down: closing {} clients still in a transaction ({})", busy,
                        second ? "second signal" : "DrainTimeoutSecs passed");
                proxy.clients().closeAllAsync(second ? "second stop signal"
                        : "ShutdownSettings.DrainTimeoutSecs passed").get(5, TimeUnit.SECONDS);
                Thread.sleep(200); // lets the error responses reach the clients before the loops stop
                return false;
            }
            Thread.sleep(STEP_MILLIS);
        }
    }
}
