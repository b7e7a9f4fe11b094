package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.ConnectionOwner;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How one {@link BackendPool} grows: it opens connections while sessions wait and MaxOpen allows, each through a
 * {@link BackendLoginAttempt} with the pool's {@link CredentialSet}; while logins fail, one attempt at a time spaced
 * by the {@link LoginBackoff}; and, when {@code perseus_auth} gives new credentials, a {@link CredentialProbe} login
 * that tries them first. It keeps the pool's connection count ({@code open}: logged in or logging in, not closed).
 *
 * <p>Kept apart from the pool because it is the part that talks to the server's authentication and decides what a
 * wrong password costs the database; the pool only says when it needs a connection and takes the ones that opened.
 * Runs on the pool's loop only.
 */
final class PoolLogins {

    /** Logged as the pool's: these lines are part of the pool's story. */
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    private final Destination destination;
    private final EventLoop loop;
    private final BackendConnector connector;
    private final Supplier<PoolSettings> settings;
    private final CredentialSet credentials;
    private final CredentialSource credentialSource;
    private final LoginBackoff backoff;
    private final StaleRetirement retirement;
    private final PoolStats stats;
    private final WaitQueue waiters;
    private final IdleConnections idle;
    /** The pool: every connection opened here reports to it. */
    private final ConnectionOwner owner;
    /** Takes each connection that opened (a waiter or the idle list gets it). */
    private final Consumer<BackendConnection> opened;
    /** Whether no tenant routes to the pool any more (it makes no probe logins then). */
    private final BooleanSupplier retired;
    private final CredentialProbe probe = new CredentialProbe();
    /** Logins sent to the server, each candidate counted: what a wrong password costs the database. */
    private final AtomicLong serverLogins = new AtomicLong();
    private ProxyEvents events = ProxyEvents.NONE;
    private ProxyEvents.Pool poolEvents = ProxyEvents.Pool.NONE;
    private ScheduledFuture<?> retryTimer;
    private int open;
    private int creating;

    PoolLogins(Destination destination, EventLoop loop, BackendConnector connector, Supplier<PoolSettings> settings,
               CredentialSet credentials, CredentialSource credentialSource, LoginBackoff backoff,
               StaleRetirement retirement, PoolStats stats, WaitQueue waiters, IdleConnections idle,
               ConnectionOwner owner, Consumer<BackendConnection> opened, BooleanSupplier retired) {
        this.destination = destination;
        this.loop = loop;
        this.connector = connector;
        this.settings = settings;
        this.credentials = credentials;
        this.credentialSource = credentialSource;
        this.backoff = backoff;
        this.retirement = retirement;
        this.stats = stats;
        this.waiters = waiters;
        this.idle = idle;
        this.owner = owner;
        this.opened = opened;
        this.retired = retired;
    }

    /** @param poolEvents the pool's handle of {@code events} (made once per pool) */
    void reportTo(ProxyEvents events, ProxyEvents.Pool poolEvents) {
        this.events = events;
        this.poolEvents = poolEvents;
    }

    /** Connections open or logging in. */
    int open() {
        return open;
    }

    /** Logins in flight. */
    int creating() {
        return creating;
    }

    long serverLoginCount() {
        return serverLogins.get();
    }

    /** An open connection closed (logins that failed were uncounted when they failed). */
    void memberClosed() {
        open--;
    }

    /** See {@link BackendPool#updateCredentials}. */
    void offerLatest(BackendCredentials latest) {
        if (credentials.offerLatest(latest)) {
            events.rotation(ProxyEvents.Rotation.CREDENTIALS_CHANGED);
            log.info("pool {}: perseus_auth now gives credentials {}", destination, latest);
            if (backoff.failing()) {
                backoff.retryNow(System.nanoTime()); // the fix may have arrived: no need to wait out the backoff
                probeLogin();
            } else if (!latest.equals(credentials.current())) {
                probe.newLatest(System.nanoTime());
                probeNewCredentials();
            }
        }
    }

    /**
     * Opens connections while sessions wait and MaxOpen allows. While logins fail, at most one is in flight and they
     * are spaced by the backoff; sessions that no open connection can serve get the login's error at once.
     */
    void openMoreIfNeeded() {
        PoolSettings current = settings.get();
        while (creating < waiters.size() && open < current.maxOpen()) {
            if (backoff.failing()) {
                if (creating > 0) {
                    return;
                }
                long wait = backoff.waitNanos(System.nanoTime());
                if (wait > 0) {
                    if (open == 0) {
                        waiters.failAll(backoff.lastError());
                    } else {
                        scheduleRetry(wait);
                    }
                    return;
                }
            }
            startLogin(current);
        }
    }

    /**
     * A due {@link CredentialProbe} gets a login: at once if the pool has room, else in the slot of a connection
     * closed for it (an idle one now, or the next one released), so MaxOpen is never exceeded.
     */
    void probeNewCredentials() {
        long now = System.nanoTime();
        if (!probe.due(now) || creating > 0 || backoff.failing() || retired.getAsBoolean() || open == 0) {
            return; // a pool nobody uses logs in with the latest first at its next login anyway
        }
        if (credentials.latest() == null || credentials.latest().equals(credentials.current())) {
            probe.settled();
            return;
        }
        if (open < settings.get().maxOpen()) {
            startLogin(settings.get());
        } else if (!idle.isEmpty()) {
            idle.closeLeastRecentlyUsed(1); // onClosed comes back here with room
        }
    }

    /** Whether a probe login waits for a slot: the next connection released is closed to make room for it. */
    boolean probeWaitsForRoom(long now) {
        return probe.due(now) && creating == 0 && !backoff.failing() && open >= settings.get().maxOpen()
                && credentials.latest() != null && !credentials.latest().equals(credentials.current());
    }

    /** Logs one connection in now (the caller checked MaxOpen). */
    void startLogin(PoolSettings current) {
        open++;
        creating++;
        BackendCredentials latest = credentials.latest();
        boolean probing = probe.due(System.nanoTime()) && latest != null && !latest.equals(credentials.current());
        if (probing) {
            probe.started();
        }
        new BackendLoginAttempt(destination, loop, credentials, credentialSource, loginWith -> {
            serverLogins.incrementAndGet();
            return connector.connect(loop, destination, loginWith, owner, current.connCreateTimeout(),
                    current.maxLifetime());
        }).latestFirst(probing).run().addListener(f -> {
            creating--;
            if (probing) {
                boolean latestWorked = f.isSuccess() && latest.equals(((BackendConnection) f.getNow()).credentials());
                probe.finished(latestWorked, System.nanoTime());
                if (latestWorked) {
                    log.info("pool {}: logs in with the new credentials {} now; connections of older ones retire"
                            + " when idle", destination, latest);
                }
            }
            if (f.isSuccess()) {
                loggedIn((BackendConnection) f.getNow());
            } else {
                loginFailed(f.cause());
            }
            openMoreIfNeeded();
        });
    }

    private void loggedIn(BackendConnection connection) {
        if (backoff.failing()) {
            log.info("pool {}: logins work again (as {})", destination, connection.credentials());
        }
        backoff.succeeded();
        retirement.proven();
        stats.opened();
        poolEvents.backendLogin(true);
        log.debug("opened backend pid {} for {}", connection.processId(), destination);
        opened.accept(connection);
    }

    private void loginFailed(Throwable cause) {
        open--;
        poolEvents.backendLogin(false);
        PgException error = cause instanceof PgException pg ? pg
                : new PgException("08006", "cannot open a connection to backend " + destination + ": " + cause);
        // 08004: the server answered and refused (credentials, auth method); anything else: not reached.
        backoff.failed(System.nanoTime(), error, "08004".equals(error.sqlState()));
        log.warn("pool {}: login failed ({} open connections keep serving; next attempt in {} ms): {}",
                destination, open, Math.max(0, backoff.waitNanos(System.nanoTime()) / 1_000_000),
                error.getMessage());
        if (open == 0) {
            waiters.failAll(error); // no open connection can serve them: the login's error rather than a wait
        } else {
            // In use: keep trying (with backoff) even if nobody waits, so the pool leaves the failing
            // state - and resumes retiring old connections - once a working password appears.
            scheduleRetry(backoff.waitNanos(System.nanoTime()));
        }
    }

    private void scheduleRetry(long waitNanos) {
        if (retryTimer == null || retryTimer.isDone()) {
            retryTimer = loop.schedule(this::probeLogin, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * While logins fail: one attempt when the backoff allows, even with nobody waiting, provided the pool is in use
     * (has open connections) and has room. Otherwise the sessions waiting, if any, drive the attempts.
     */
    private void probeLogin() {
        if (backoff.failing() && creating == 0 && open > 0 && open < settings.get().maxOpen()
                && waiters.isEmpty()) {
            long wait = backoff.waitNanos(System.nanoTime());
            if (wait > 0) {
                scheduleRetry(wait);
            } else {
                startLogin(settings.get());
            }
            return;
        }
        openMoreIfNeeded();
    }
}
