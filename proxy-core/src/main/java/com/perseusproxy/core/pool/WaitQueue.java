package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.backend.TenantKey;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The sessions waiting for a connection of one pool: first come, first served, with two refinements.
 * <ul>
 *   <li><b>Tenant affinity, bounded.</b> A released connection goes to a waiter of the tenant it served last (which
 *   saves that waiter a session reset) only if one is among the first {@link #SAME_TENANT_SCAN} waiters and the head
 *   has waited less than {@link #MAX_OVERTAKE_NANOS}: nobody is overtaken for long.</li>
 *   <li><b>One timer for the whole queue</b>, not one per waiter. Waiters join at the tail, so the head always has
 *   the nearest QueryWaitTimeoutSecs deadline. A timer scheduled and cancelled per wait cost a priority-queue insert
 *   and removal per transaction, in a queue as long as the waiting clients (the O(clients) term in the 200-client
 *   profile of docs/BENCHMARKS.md).</li>
 * <li><b>A short linger for the last tenant.</b> When a connection comes back, waiters of other tenants wait, and
 * none of its own tenant is queued, the connection is held for {@link #LINGER_NANOS} before the head gets it: the
 * client that just released it usually sends its next transaction within that time (pgbench's next query comes tens
 * of microseconds after its ReadyForQuery), and then takes it back with no session reset, where handing it to
 * another tenant would cost a reset now and another one for that client's next transaction. Measured with 8 tenants
 * of 2 clients on a pool of 10 (`SCENARIOS=tenants bash bench/run.sh`): without it about half the transactions paid a
 * reset and the 8-tenant run reached 0.43 of the 1-tenant run; with 0.5 ms 0.56, with 2 ms 0.70. The price: when the
 * tenant does not come back, the head waiter waits up to this much longer. Bounded like the affinity: no linger once
 * the head has waited {@link #MAX_OVERTAKE_NANOS}.</li>
 * </ul>
 * A waiter whose session left stays queued with a cancelled promise and is skipped. Lives on the pool's event loop.
 */
final class WaitQueue {

    /** How far into the queue a released connection looks for a waiter of the tenant it served last. */
    static final int SAME_TENANT_SCAN = 16;
    /** The head may be overtaken by a same-tenant waiter only while it has waited less than this. */
    static final long MAX_OVERTAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /** How long a released connection waits for its last tenant while other tenants' sessions wait. */
    static final long LINGER_NANOS = TimeUnit.MICROSECONDS.toNanos(2000);

    /**
     * @param atCapacity it waits because MaxOpen was reached, which is what Perseus's wait metrics count (Go's
     *                   sql.DBStats), as opposed to waiting for a new connection to log in
     */
    private record Waiter(Promise<BackendConnection> promise, long sinceNanos, boolean atCapacity,
                          TenantKey tenant) {
    }

    private final ArrayDeque<Waiter> waiters = new ArrayDeque<>();
    private final EventLoop loop;
    private final Supplier<PoolSettings> settings;
    private final PoolStats stats;
    /** Told of each waiter whose QueryWaitTimeoutSecs ran out (a metric). */
    private Runnable timedOut = () -> { };
    /** Why new logins fail, while they do (null: they work); the timeout's error says so. */
    private Supplier<PgException> loginFailure = () -> null;
    private Destination destination;
    /** Told how long each served waiter waited (the pool-wait histogram). */
    private final LongConsumer leased;
    /** Fires at the head's deadline; null while no timer is pending. */
    private ScheduledFuture<?> timer;
    /** Connections lingering for their last tenant (a few at most: one per release within LINGER_NANOS). */
    private final ArrayDeque<BackendConnection> lingering = new ArrayDeque<>();
    /** Where a lingering connection goes when nobody waits for it any more: back to the pool's idle list. */
    private Consumer<BackendConnection> backToIdle = c -> { };

    WaitQueue(EventLoop loop, Supplier<PoolSettings> settings, PoolStats stats, LongConsumer leased) {
        this.leased = leased;
        this.loop = loop;
        this.settings = settings;
        this.stats = stats;
    }

    /**
     * @param timedOut     told of each waiter whose QueryWaitTimeoutSecs ran out
     * @param loginFailure why new logins to the destination fail, or null while they work
     * @param destination  named in the error
     */
    void onTimeout(Runnable timedOut, Supplier<PgException> loginFailure, Destination destination) {
        this.timedOut = timedOut;
        this.loginFailure = loginFailure;
        this.destination = destination;
    }

    boolean isEmpty() {
        return waiters.isEmpty();
    }

    /** @param idle takes back a lingering connection that nobody waits for any more */
    void onUnclaimed(Consumer<BackendConnection> idle) {
        this.backToIdle = idle;
    }

    int size() {
        return waiters.size();
    }

    void add(Promise<BackendConnection> promise, long now, boolean atCapacity, TenantKey tenant) {
        waiters.add(new Waiter(promise, now, atCapacity, tenant));
        if (timer == null) {
            arm(now);
        }
    }

    /**
     * Gives {@code connection} to the waiter it is for, or keeps it lingering for its last tenant; false if nobody
     * (still) waits.
     */
    boolean handOver(BackendConnection connection, long now) {
        Waiter waiter = sameTenantWaiter(connection, now);
        if (waiter != null && served(waiter, connection, now)) {
            return true;
        }
        Waiter head = waiters.peek();
        if (head != null && connection.lastTenant() != null && !connection.lastTenant().equals(head.tenant())
                && now - head.sinceNanos() < MAX_OVERTAKE_NANOS) {
            lingering.add(connection);
            loop.schedule(() -> lingerOver(connection), LINGER_NANOS, TimeUnit.NANOSECONDS);
            return true;
        }
        return handOverInOrder(connection, now);
    }

    /** A connection lingering for {@code tenant}, taken out; null if none. */
    BackendConnection takeLingering(TenantKey tenant) {
        for (Iterator<BackendConnection> it = lingering.iterator(); it.hasNext(); ) {
            BackendConnection connection = it.next();
            if (tenant != null && tenant.equals(connection.lastTenant())) {
                it.remove();
                stats.leased();
                leased.accept(0);
                return connection;
            }
        }
        return null;
    }

    /** The connection closed while lingering: forget it. */
    void closed(BackendConnection connection) {
        lingering.remove(connection);
    }

    /** Every lingering connection, taken out (shutdown, PAUSE). */
    void drainLingering(Consumer<BackendConnection> each) {
        BackendConnection connection;
        while ((connection = lingering.poll()) != null) {
            each.accept(connection);
        }
    }

    /** Its tenant did not come back in time: the waiters get it in order, or the idle list does. */
    private void lingerOver(BackendConnection connection) {
        if (lingering.remove(connection) && !handOverInOrder(connection, System.nanoTime())) {
            backToIdle.accept(connection);
        }
    }

    private boolean handOverInOrder(BackendConnection connection, long now) {
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            if (served(waiter, connection, now)) {
                return true;
            }
        }
        return false;
    }

    /** Takes every waiter still waiting out of the queue, in order (a console PAUSE holds them elsewhere). */
    void takeAll(java.util.function.BiConsumer<TenantKey, Promise<BackendConnection>> each) {
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            if (!waiter.promise().isDone()) {
                each.accept(waiter.tenant(), waiter.promise());
            }
        }
    }

    /** How long the first waiter has waited; 0 when nobody waits. */
    long headWaitedNanos(long now) {
        Waiter head = waiters.peek();
        return head == null ? 0 : now - head.sinceNanos();
    }

    /** No open connection can serve them: every waiter gets {@code error} now. */
    void failAll(PgException error) {
        Waiter waiter;
        while ((waiter = waiters.poll()) != null) {
            waiter.promise().tryFailure(error);
        }
    }

    private boolean served(Waiter waiter, BackendConnection connection, long now) {
        if (!waiter.promise().trySuccess(connection)) {
            return false; // its session left meanwhile
        }
        if (waiter.atCapacity()) {
            stats.waited(now - waiter.sinceNanos());
        }
        stats.leased();
        leased.accept(now - waiter.sinceNanos());
        return true;
    }

    /** A waiter of the connection's last tenant near the head, taken out of the queue; null if none may go first. */
    private Waiter sameTenantWaiter(BackendConnection connection, long now) {
        Waiter head = waiters.peek();
        TenantKey last = connection.lastTenant();
        if (head == null || last == null || last.equals(head.tenant()) || now - head.sinceNanos() > MAX_OVERTAKE_NANOS) {
            return null; // the head is served anyway (FIFO)
        }
        int scanned = 0;
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext() && scanned < SAME_TENANT_SCAN; scanned++) {
            Waiter candidate = it.next();
            if (last.equals(candidate.tenant())) {
                it.remove();
                return candidate;
            }
        }
        return null;
    }

    private void arm(long now) {
        long timeoutNanos = settings.get().queryWaitTimeout().toNanos();
        Waiter head = waiters.peek();
        if (head == null || timeoutNanos <= 0) {
            return; // QueryWaitTimeoutSecs = 0 means wait as long as it takes
        }
        long delay = Math.max(0, head.sinceNanos() + timeoutNanos - now);
        timer = loop.schedule(this::expire, delay, TimeUnit.NANOSECONDS);
    }

    /** Fails the waiters whose QueryWaitTimeoutSecs has run out (and drops departed ones), then re-arms. */
    private void expire() {
        timer = null;
        long now = System.nanoTime();
        long timeoutNanos = settings.get().queryWaitTimeout().toNanos();
        Waiter head;
        while ((head = waiters.peek()) != null
                && (head.promise().isDone() || (timeoutNanos > 0 && now - head.sinceNanos() >= timeoutNanos))) {
            waiters.poll();
            if (!head.promise().isDone()) {
                timedOut.run();
                head.promise().tryFailure(waitTimedOut());
            }
        }
        arm(now);
    }

    /** The error of a waiter whose QueryWaitTimeoutSecs ran out: why, and what to change. */
    private PgException waitTimedOut() {
        PoolSettings current = settings.get();
        long seconds = current.queryWaitTimeout().toSeconds();
        PgException loginError = loginFailure.get();
        if (loginError != null) {
            return new PgException("08004", "no backend connection to " + destination + " became free within "
                    + seconds + " s (PoolSettings.QueryWaitTimeoutSecs), and new logins to it fail: "
                    + loginError.getMessage(), true, null);
        }
        return new PgException("53300", "no backend connection to " + destination + " became free within "
                + seconds + " s (PoolSettings.QueryWaitTimeoutSecs); all " + current.maxOpen() + " connections"
                + " (PoolSettings.MaxOpen) are busy - shorten transactions or raise MaxOpen");
    }
}
