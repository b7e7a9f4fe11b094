package com.perseusproxy.core.rotation;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.pool.TenantRoutes;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.tenant.TenantDirectory;
import com.perseusproxy.core.tenant.TenantLookupException;
import com.perseusproxy.core.tenant.TenantRecord;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads the {@code perseus_auth} rows of the tenants in use and hands changed routes to {@link TenantRoutes}: every
 * {@code AuthDBSettings.RefreshIntervalSecs}, on SIGHUP, and at once when the auth database NOTIFYs a change. This is
 * how a new {@code dest_pass_enc} or an account switch reaches pools and sessions without a restart and without
 * waiting for a login to fail. Requests that arrive while a refresh is queued are merged into it.
 */
public final class RouteRefresher {

    private static final Logger log = LoggerFactory.getLogger(RouteRefresher.class);

    private final TenantDirectory directory;
    private final TenantRowDecoder decoder;
    private final TenantRoutes routes;
    private final ScheduledExecutorService executor;
    private final AtomicBoolean queued = new AtomicBoolean();
    private final UnaryOperator<TenantRoute> rewrite;
    /** The last re-read, for the console's SHOW ROTATION: when it ended (epoch ms, 0 = none yet), rows, failures. */
    private volatile long lastRefreshMillis;
    private volatile int lastRefreshRows;
    private volatile int lastRefreshFailures;
    private volatile long periodMillis;

    /** @param executor runs the refreshes (blocking JDBC and KMS); owned by the caller */
    public RouteRefresher(TenantDirectory directory, SecretDecryptor decryptor, TenantRoutes routes,
                          ScheduledExecutorService executor) {
        this(directory, decryptor, routes, executor, UnaryOperator.identity());
    }

    /** @param rewrite applied to each route read, e.g. {@link ExternalRouting} */
    public RouteRefresher(TenantDirectory directory, SecretDecryptor decryptor, TenantRoutes routes,
                          ScheduledExecutorService executor, UnaryOperator<TenantRoute> rewrite) {
        this.rewrite = rewrite;
        this.directory = directory;
        this.decoder = new TenantRowDecoder(decryptor);
        this.routes = routes;
        this.executor = executor;
    }

    /** Refreshes every {@code interval}; zero turns the periodic refresh off (NOTIFY and SIGHUP still work). */
    public synchronized void startPeriodic(Duration interval) {
        // A reload may change the interval: the previous schedule, if any, gives way to the new one.
        if (periodic != null) {
            periodic.cancel(false);
            periodic = null;
        }
        periodMillis = Math.max(0, interval.toMillis());
        if (!interval.isZero() && !interval.isNegative()) {
            periodic = executor.scheduleWithFixedDelay(this::refreshNow, interval.toMillis(), interval.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private java.util.concurrent.ScheduledFuture<?> periodic;

    /** Asks for a refresh as soon as possible; returns at once. */
    public void refreshNow() {
        if (queued.compareAndSet(false, true)) {
            try {
                executor.execute(this::refresh);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                queued.set(false); // shutting down
            }
        }
    }

    /** When the last re-read ended (epoch milliseconds; 0 = none yet). */
    public long lastRefreshMillis() {
        return lastRefreshMillis;
    }

    /** Rows the last re-read looked at, and how many of them failed. */
    public int[] lastRefreshCounts() {
        return new int[] {lastRefreshRows, lastRefreshFailures};
    }

    /** The periodic interval in force (0 = none). */
    public long periodMillis() {
        return periodMillis;
    }

    private void refresh() {
        queued.set(false);
        int rows = 0;
        int failures = 0;
        try {
            for (TenantRoutes.Key key : routes.inUse()) {
                rows++;
                if (!refreshOne(key)) {
                    failures++;
                }
            }
        } finally {
            lastRefreshRows = rows;
            lastRefreshFailures = failures;
            lastRefreshMillis = System.currentTimeMillis();
        }
    }

    /** @return false if the row could not be re-read (the route stays as it was) */
    private boolean refreshOne(TenantRoutes.Key key) {
        try {
            long readStarted = System.nanoTime();
            Optional<TenantRecord> row = directory.find(key.database(), key.schema());
            if (row.isEmpty()) {
                return true; // a deleted tenant: new logins are refused; sessions already in keep their route
            }
            TenantRecord r = row.get();
            TenantRoute route = new TenantRoute(key.database(), key.schema(), r.sourceUser(),
                    decoder.destination(r), null);
            route = rewrite.apply(route);
            if (route.credentials() == null) {
                route = new TenantRoute(route.database(), route.schema(), route.user(), route.destination(),
                        decoder.credentials(r));
            }
            routes.offer(route, readStarted);
            return true;
        } catch (TenantLookupException | IllegalArgumentException | IllegalStateException e) {
            log.warn("refreshing the route of tenant {}/{} failed (kept as it was): {}", key.database(),
                    key.schema(), e.getMessage());
        } catch (RuntimeException e) {
            log.warn("refreshing the route of tenant {}/{} failed unexpectedly (kept as it was): {}",
                    key.database(), key.schema(), e.toString());
        }
        return false;
    }
}
