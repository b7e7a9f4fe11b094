package com.perseusproxy.server.metrics;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.sql.Connection;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code GET /ready} answers: ready unless the proxy is shutting down or the auth database (without which no
 * client can log in) did not answer the last check. The check runs on its own thread every
 * {@link #CHECK_PERIOD_MILLIS}, so a load balancer probing often costs the auth database nothing extra and the
 * HTTP thread never waits on JDBC. {@code /health} stays liveness: a proxy whose auth database is down still serves
 * the clients already logged in, so it must not be restarted for it.
 */
public final class Readiness implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Readiness.class);
    static final long CHECK_PERIOD_MILLIS = 2000;

    private final DataSource authDb;
    private final int timeoutSecs;
    private final ScheduledExecutorService thread;
    private volatile boolean shuttingDown;
    /** Null while the last check succeeded; else why it failed (never the DSN, which may hold a password). */
    private volatile String authDbProblem = "not checked yet";

    /** A readiness that only knows about shutdown (no auth database to check), for tests and tools. */
    public Readiness() {
        this.authDb = null;
        this.timeoutSecs = 0;
        this.thread = null;
        this.authDbProblem = null;
    }

    public Readiness(DataSource authDb, int timeoutSecs) {
        this.authDb = authDb;
        this.timeoutSecs = timeoutSecs;
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1,
                new DefaultThreadFactory("perseus-readiness", true));
        this.thread = executor;
        executor.scheduleWithFixedDelay(this::check, 0, CHECK_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The shutdown has begun: from now on {@code /ready} fails, so load balancers stop sending clients. */
    public void shuttingDown() {
        shuttingDown = true;
    }

    /** Null when ready; else the reason, for the response body. */
    public String problem() {
        if (shuttingDown) {
            return "shutting down";
        }
        String problem = authDbProblem;
        return problem == null ? null : "auth database unreachable: " + problem;
    }

    private void check() {
        String problem;
        try (Connection c = authDb.getConnection()) {
            problem = c.isValid(timeoutSecs) ? null : "no answer within " + timeoutSecs + " s";
        } catch (Exception e) {
            // SQLState and exception type only: driver messages can name hosts and users, never worth the risk here.
            problem = e.getClass().getSimpleName() + (e instanceof java.sql.SQLException sql && sql.getSQLState() != null
                    ? " (SQLSTATE " + sql.getSQLState() + ")" : "");
        }
        String previous = authDbProblem;
        authDbProblem = problem;
        if (problem != null && previous == null) {
            log.warn("auth database unreachable ({}): /ready now fails until it answers again", problem);
        } else if (problem == null && previous != null) {
            log.info("auth database reachable: /ready succeeds");
        }
    }

    @Override
    public void close() {
        if (thread != null) {
            thread.shutdownNow();
        }
    }
}
