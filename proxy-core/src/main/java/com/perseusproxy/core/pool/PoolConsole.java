package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.backend.TenantKey;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What the admin console does to one {@link BackendPool}: PAUSE and RESUME (through {@link PoolPause}), RECONNECT
 * (the connections to close once their lease ends) and KILL; and what it sees of it (a {@link PoolSnapshot}). It owns the held leases and the close-on-release set;
 * the pool asks it at each acquire and release whether the console has a say.
 *
 * <p>Kept apart from the pool so that the pool is about leasing, limits and credentials, and the operator's
 * commands - which only hold, re-issue or close leases - are in one place. Runs on the pool's loop only, like the
 * pool.
 */
final class PoolConsole {

    private final BackendPool pool;
    private final EventLoop loop;
    private final WaitQueue waiters;
    private final PoolStats stats;
    /** The pool's open connections (its {@code members}); read, never changed here. */
    private final Set<BackendConnection> members;
    /** PAUSE / RESUME from the admin console. */
    private final PoolPause pause = new PoolPause();
    /** Connections RECONNECT asked to close once their lease ends. */
    private final Set<BackendConnection> closeOnRelease = new HashSet<>();

    /** The parts of the pool the snapshot reads (never changes). */
    record Views(CredentialSet credentials, LoginBackoff backoff, PoolLogins logins, IdleConnections idle) {
    }

    private final Views views;

    PoolConsole(BackendPool pool, EventLoop loop, WaitQueue waiters, PoolStats stats, Set<BackendConnection> members,
                Views views) {
        this.pool = pool;
        this.views = views;
        this.loop = loop;
        this.waiters = waiters;
        this.stats = stats;
        this.members = members;
    }

    boolean paused() {
        return pause.paused();
    }

    /** Leases held until RESUME. */
    int heldCount() {
        return pause.heldCount();
    }

    /** A lease asked for while paused waits for RESUME; a client that leaves meanwhile cancels it. */
    Future<BackendConnection> holdWhilePaused(TenantKey tenant) {
        Promise<BackendConnection> held = loop.newPromise();
        holdUntilResumed(tenant, held);
        return held;
    }

    private void holdUntilResumed(TenantKey tenant, Promise<BackendConnection> held) {
        // A held client waits like a queued one, and QueryWaitTimeoutSecs bounds it as PgBouncer's
        // query_wait_timeout bounds a paused client: a PAUSE nobody resumes must not hang clients forever. A timer
        // per held lease is fine here: leases are held only while an operator's PAUSE lasts, never on the hot path.
        long timeoutNanos = waiters.queryWaitTimeoutNanos();
        if (timeoutNanos > 0) {
            var timer = loop.schedule(() -> {
                if (!held.isDone() && pause.paused()) {
                    waiters.countTimedOut();
                    held.tryFailure(pausedTooLong(timeoutNanos));
                }
            }, timeoutNanos, TimeUnit.NANOSECONDS);
            held.addListener(f -> timer.cancel(false));
        }
        pause.hold(() -> {
            if (held.isDone()) {
                return;
            }
            pool.acquire(tenant).addListener(f -> {
                if (!f.isSuccess()) {
                    held.tryFailure(f.cause());
                } else if (!held.trySuccess((BackendConnection) f.getNow())) {
                    pool.release((BackendConnection) f.getNow()); // its client left while it was opened
                }
            });
        });
    }

    private PgException pausedTooLong(long timeoutNanos) {
        return new PgException("57P03", "the pool of " + pool.destination() + " is paused by the admin console"
                + " (PAUSE) and was not resumed within " + TimeUnit.NANOSECONDS.toSeconds(timeoutNanos) + " s"
                + " (PoolSettings.QueryWaitTimeoutSecs); retry once the operator has run RESUME");
    }

    /** A lease was returned: a PAUSE whose leases are all back completes. */
    void afterRelease() {
        if (pause.paused() && stats.inUse() == 0) {
            pool.closeIdle(); // PAUSE: the servers are left alone, as PgBouncer's PAUSE disconnects them
            pause.quiet();
        }
    }

    /** Whether RECONNECT marked {@code connection}; the mark is consumed. */
    boolean takeCloseOnRelease(BackendConnection connection) {
        return closeOnRelease.remove(connection);
    }

    /** The connection closed: RECONNECT no longer waits for it. */
    void closed(BackendConnection connection) {
        closeOnRelease.remove(connection);
    }

    /** See {@link BackendPool#pause()}. */
    Future<Void> pause() {
        Promise<Void> quiet = loop.newPromise();
        pause.pause(quiet);
        // Sessions already queued have not started their transaction either: they wait for RESUME too.
        waiters.takeAll(this::holdUntilResumed);
        if (stats.inUse() == 0) {
            pool.closeIdle();
            pause.quiet();
        }
        return quiet;
    }

    /** RESUME: the held leases are served in the order they were asked for. */
    void resume() {
        pause.resume().forEach(Runnable::run);
    }

    /** RECONNECT: idle connections close now, leased ones when their lease ends; new ones log in afresh. */
    void reconnect() {
        pool.closeIdle();
        closeOnRelease.addAll(members);
    }

    /** KILL: holds new leases (until RESUME) and closes every connection now, in use or not. */
    void kill() {
        pause.pause(loop.newPromise());
        pool.closeIdle();
        new ArrayList<>(members).forEach(BackendConnection::close);
    }

    /** Connections RECONNECT marked that are still open (WAIT_CLOSE waits for none). */
    int closeNeededCount() {
        return closeOnRelease.size();
    }

    /** What SHOW POOLS and its kin show of the pool, copied now; credentials as fingerprints only. */
    PoolSnapshot snapshot(Destination destination, int maxOpen) {
        long now = System.nanoTime();
        BackendCredentials live = views.credentials().current();
        List<String> retiring = new ArrayList<>();
        for (BackendCredentials c : views.credentials().candidates()) {
            if (!c.equals(live)) {
                retiring.add(c.user() + "/" + c.fingerprint());
            }
        }
        LoginBackoff backoff = views.backoff();
        PgException lastError = backoff.lastError();
        return new PoolSnapshot(destination, maxOpen, views.logins().open(), views.idle().size(),
                views.logins().creating(), stats.inUse(), waiters.size(), pause.heldCount(),
                waiters.headWaitedNanos(now), pause.paused(), closeOnRelease.size(),
                live == null ? "" : live.user() + "/" + live.fingerprint(), retiring, backoff.failing(),
                lastError == null ? null : lastError.getMessage(), Math.max(0, backoff.waitNanos(now) / 1_000_000),
                views.logins().serverLoginCount(), stats.leasesTotal(), stats.waitSeconds(),
                members.stream().map(ServerInfo::of).toList());
    }
}
