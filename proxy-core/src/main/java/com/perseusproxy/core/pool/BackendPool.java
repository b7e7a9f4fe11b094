package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.ConnectionOwner;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend connections of one destination, shared by every tenant routed there.
 *
 * <p>Vocabulary: a client session <em>acquires</em> a connection for one transaction and <em>releases</em> it at the
 * transaction's end. Idle connections are kept most-recently-used first, so the surplus ages out through
 * MaxIdletime. Waiters are served first come, first served, and give up after QueryWaitTimeoutSecs. A connection that
 * dies is dropped and never handed out again. Every method runs on the pool's event loop.
 */
public final class BackendPool implements ConnectionOwner {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    private final Destination destination;
    private final EventLoop loop;
    private final BackendConnector connector;
    private final Supplier<PoolSettings> settings;
    private final PoolStats stats = new PoolStats();
    private final KnownStatements knownStatements = new KnownStatements();
    private final ServerProfile serverProfile = new ServerProfile();
    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private volatile BackendCredentials credentials;
    private int open;
    private int creating;

    /**
     * A session waiting for a connection. {@code atCapacity}: it waits because MaxOpen was reached, which is what
     * Perseus's wait metrics count (Go's sql.DBStats), as opposed to waiting for a new connection to log in.
     */
    private record Waiter(Promise<BackendConnection> promise, long sinceNanos, ScheduledFuture<?> timeout,
                          boolean atCapacity) {
    }

    public BackendPool(Destination destination, BackendCredentials credentials, EventLoop loop,
                       BackendConnector connector, Supplier<PoolSettings> settings) {
        this.destination = destination;
        this.credentials = credentials;
        this.loop = loop;
        this.connector = connector;
        this.settings = settings;
    }

    public Destination destination() {
        return destination;
    }

    public PoolStats stats() {
        return stats;
    }

    /** Named prepared statements a backend of this pool has parsed successfully. */
    public KnownStatements knownStatements() {
        return knownStatements;
    }

    public ServerProfile serverProfile() {
        return serverProfile;
    }

    public EventLoop eventLoop() {
        return loop;
    }

    /** The settings in force now (they may change at run time). */
    public PoolSettings settings() {
        return settings.get();
    }

    /** New connections log in with these; open ones keep what they logged in with (the server keeps them valid). */
    public void updateCredentials(BackendCredentials latest) {
        if (!latest.equals(credentials)) {
            log.info("pool {} will log in new connections with {}", destination, latest);
            credentials = latest;
        }
    }

    /** Gets a connection for one transaction: an idle one, a new one, or the next one released. */
    public Future<BackendConnection> acquire() {
        assert loop.inEventLoop();
        Promise<BackendConnection> promise = loop.newPromise();
        long now = System.nanoTime();
        if (waiters.isEmpty()) {
            BackendConnection connection = pollIdle(now);
            if (connection != null) {
                stats.leased();
                promise.setSuccess(connection);
                return promise;
            }
        }
        long timeoutMillis = settings.get().queryWaitTimeout().toMillis();
        // QueryWaitTimeoutSecs = 0 means wait as long as it takes.
        ScheduledFuture<?> timeout = timeoutMillis <= 0 ? null
                : loop.schedule(() -> giveUp(promise), timeoutMillis, TimeUnit.MILLISECONDS);
        waiters.add(new Waiter(promise, now, timeout, open >= settings.get().maxOpen()));
        if (timeout != null) {
            promise.addListener(f -> timeout.cancel(false));
        }
        openMoreIfNeeded();
        return promise;
    }

    /** Takes back a connection whose transaction ended cleanly. */
    @Override
    public void release(BackendConnection connection) {
        assert loop.inEventLoop();
        connection.endLease();
        if (connection.holdForCancel()) {
            return; // comes back through release() once the cancel has been delivered
        }
        stats.returned();
        long now = System.nanoTime();
        if (!connection.isUsable()) {
            return; // onClosed does the accounting
        }
        if (connection.isExpired(now)) {
            stats.closedForLifetime();
            close(connection);
            return;
        }
        if (open > settings.get().maxOpen()) {
            close(connection); // MaxOpen was lowered by a reload: shrink as connections come back
            return;
        }
        connection.markIdle(now);
        if (handToWaiter(connection, now)) {
            return;
        }
        if (idle.size() >= settings.get().maxIdle()) {
            stats.closedForMaxIdle();
            close(connection);
            return;
        }
        idle.push(connection);
    }

    @Override
    public void onClosed(BackendConnection connection) {
        assert loop.inEventLoop();
        if (idle.remove(connection)) {
            log.debug("idle backend of {} closed", destination);
        }
        open--;
        openMoreIfNeeded();
    }

    /** Closes idle connections past MaxIdletime or MaxLifetime; called periodically by the registry. */
    public void evictIdle() {
        long now = System.nanoTime();
        PoolSettings current = settings.get();
        long maxIdleNanos = current.maxIdleTime().toNanos();
        for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
            BackendConnection connection = it.next();
            if (connection.isExpired(now)) {
                it.remove();
                stats.closedForLifetime();
                close(connection);
            } else if (maxIdleNanos > 0 && now - connection.idleSinceNanos() >= maxIdleNanos) {
                it.remove();
                stats.closedForIdleTime();
                close(connection);
            }
        }
        while (idle.size() > current.maxIdle()) {
            stats.closedForMaxIdle();
            close(idle.removeLast());
        }
    }

    /** Closes every connection that is idle now (shutdown, or a retired destination). */
    public void closeIdle() {
        while (!idle.isEmpty()) {
            close(idle.poll());
        }
    }

    public int openCount() {
        return open;
    }

    public int idleCount() {
        return idle.size();
    }

    public int waitingCount() {
        return waiters.size();
    }

    private void close(BackendConnection connection) {
        connection.close(settings.get().connCloseTimeout());
    }

    private BackendConnection pollIdle(long now) {
        BackendConnection connection;
        while ((connection = idle.poll()) != null) {
            if (!connection.isUsable()) {
                continue;
            }
            if (connection.isExpired(now)) {
                stats.closedForLifetime();
                close(connection);
                continue;
            }
            return connection;
        }
        return null;
    }

    private boolean handToWaiter(BackendConnection connection, long now) {
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            if (waiter.promise().trySuccess(connection)) {
                if (waiter.atCapacity()) {
                    stats.waited(now - waiter.sinceNanos());
                }
                stats.leased();
                return true;
            }
        }
        return false;
    }

    /** Opens connections while sessions wait and MaxOpen allows. */
    private void openMoreIfNeeded() {
        PoolSettings current = settings.get();
        while (creating < waiters.size() && open < current.maxOpen()) {
            open++;
            creating++;
            BackendCredentials loginWith = credentials;
            connector.connect(loop, destination, loginWith, this, current.connCreateTimeout(), current.maxLifetime())
                    .addListener(f -> {
                        creating--;
                        if (f.isSuccess()) {
                            BackendConnection connection = (BackendConnection) f.getNow();
                            stats.opened();
                            log.debug("opened backend pid {} for {}", connection.processId(), destination);
                            if (!handToWaiter(connection, System.nanoTime())) {
                                connection.markIdle(System.nanoTime());
                                idle.push(connection);
                            }
                        } else {
                            open--;
                            failWaiters(f.cause());
                        }
                    });
        }
    }

    /** A login failed: the sessions waiting now get the error rather than waiting out their timeout. */
    private void failWaiters(Throwable cause) {
        PgException error = cause instanceof PgException pg ? pg
                : new PgException("08006", "cannot open a connection to backend " + destination + ": " + cause);
        log.warn("pool {}: {}", destination, error.getMessage());
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            waiter.promise().tryFailure(error);
        }
    }

    private void giveUp(Promise<BackendConnection> promise) {
        waiters.removeIf(w -> w.promise() == promise);
        PoolSettings current = settings.get();
        promise.tryFailure(new PgException("53300", "no backend connection to " + destination + " became free within "
                + current.queryWaitTimeout().toSeconds() + " s (PoolSettings.QueryWaitTimeoutSecs); all "
                + current.maxOpen() + " connections (PoolSettings.MaxOpen) are busy - shorten transactions or raise"
                + " MaxOpen"));
    }
}
