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
 * The sessions waiting for a connection of one pool: first come, first served, with these refinements.
 * <ul>
 *   <li><b>Tenant affinity, bounded.</b> A released connection goes to a waiter of the tenant it served last (which
 *   saves that waiter a session reset) only if one is among the first {@link #SAME_TENANT_SCAN} waiters and the head
 *   has waited less than {@link #MAX_OVERTAKE_NANOS}: nobody is overtaken for long.</li>
 *   <li><b>One timer for the whole queue</b>, not one per waiter. Waiters join at the tail, so the head always has
 *   the nearest QueryWaitTimeoutSecs deadline. A timer scheduled and cancelled per wait cost a priority-queue insert
 *   and removal per transaction, in a queue as long as the waiting clients (the O(clients) term in the 200-client
 *   profile of docs/BENCHMARKS.md).</li>
 * <li><b>A short linger for the last tenant.</b> When a connection comes back, waiters of other tenants wait, and
 * none of its own tenant is queued, the connection is held for {@code PoolSettings.TenantLingerMicros} (2 ms)
 * before the head gets it: the client that just released it usually sends its next transaction within that time
 * (pgbench's next query comes tens of microseconds after its ReadyForQuery), and then takes it back with no session
 * reset, where handing it to another tenant would cost a reset now and another one for that client's next
 * transaction. Measured with 8 tenants of 2 clients on a pool of 10 (`SCENARIOS=tenants bash bench/run.sh`): without
 * it about half the transactions paid a reset and the 8-tenant run reached 0.43 of the 1-tenant run; with 0.5 ms
 * 0.56, with 2 ms 0.70. The price: when the tenant does not come back, the head waiter waits up to this much longer.
 * Bounded like the affinity: no linger once the head has waited {@link #MAX_OVERTAKE_NANOS}; a linger that ends
 * while every waiter's tenant holds a connection (each gets its own back, with no reset) goes on, since handing it
 * over would only buy a reset, until that bound. The held connections and their one timer are {@link TenantLinger};
 * what happens when a linger ends is decided here ({@link #lingersOn}).</li>
 * <li><b>A tenant that holds no connection comes before the linger.</b> A waiter whose tenant holds a connection
 * (see {@link TenantLeases}) gets that one back when it is released, with no reset; a waiter whose tenant holds none
 * has nothing coming, and under the rules above waited until the head was {@link #MAX_OVERTAKE_NANOS} late, which
 * then switched every connection released meanwhile strictly in order. So a released connection whose tenant still
 * holds another one goes to the first such waiter at once (one reset, which that waiter pays sooner or later anyway),
 * and a connection whose linger ends goes to such a waiter before the head. A tenant's last connection is never taken
 * from it this way: that would leave its returning client with none, and the next release would switch again.</li>
 * </ul>
 * A waiter whose session left stays queued with a cancelled promise and is skipped. Lives on the pool's event loop.
 */
final class WaitQueue {

    /** How far into the queue a released connection looks for a waiter of the tenant it served last. */
    static final int SAME_TENANT_SCAN = 16;
    /** The head may be overtaken by a same-tenant waiter only while it has waited less than this. */
    static final long MAX_OVERTAKE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    /**
     * How long the head may be overtaken: {@link #MAX_OVERTAKE_NANOS}, or two lingers where the operator set a longer
     * TenantLingerMicros (a linger the bound always cuts short would be a setting that does nothing).
     */
    private long overtakeNanos() {
        return Math.max(MAX_OVERTAKE_NANOS, 2 * lingerNanos());
    }

    long lingerNanos() {
        return settings.get().tenantLinger().toNanos();
    }

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
    /** Connections held for their last tenant (one timer for all, as {@link #timer}). */
    private final TenantLinger lingering;
    /** Which tenants hold a connection now: the hand-outs are recorded there. */
    private final TenantLeases leases;
    /** Where a lingering connection goes when nobody waits for it any more: back to the pool's idle list. */
    private Consumer<BackendConnection> backToIdle = c -> { };

    WaitQueue(EventLoop loop, Supplier<PoolSettings> settings, PoolStats stats, TenantLeases leases,
              LongConsumer leased) {
        this.leases = leases;
        this.leased = leased;
        this.loop = loop;
        this.settings = settings;
        this.stats = stats;
        this.lingering = new TenantLinger(loop, this::lingerNanos, leases, leased);
        lingering.onEnding(this::lingersOn);
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

    /** Takes {@code promise}'s waiter out of the queue; false if it is not (or no longer) queued. */
    boolean remove(Promise<BackendConnection> promise) {
        return waiters.removeIf(w -> w.promise() == promise);
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
                && now - head.sinceNanos() < overtakeNanos()) {
            // Its tenant holds another connection (it is not left with none): a tenant that holds none may have it.
            Waiter starving = leases.holdsAny(connection.lastTenant()) ? starvingWaiter() : null;
            if (starving != null && served(starving, connection, now)) {
                return true;
            }
            if (lingerNanos() > 0) {
                lingering.hold(connection, now);
                return true;
            }
        }
        return handOverInOrder(connection, now);
    }

    /**
     * The first waiter (among the first {@link #SAME_TENANT_SCAN}) whose tenant holds no connection, taken out of the
     * queue; null if every waiter's tenant holds one. Those others get their own tenant's connection back when it is
     * released (no reset), so a released connection is switched to another tenant only for a waiter that would
     * otherwise wait for nothing in particular.
     */
    private Waiter starvingWaiter() {
        int scanned = 0;
        for (Iterator<Waiter> it = waiters.iterator(); it.hasNext() && scanned < SAME_TENANT_SCAN; scanned++) {
            Waiter candidate = it.next();
            if (!candidate.promise().isDone() && !leases.holdsAny(candidate.tenant())) {
                it.remove();
                return candidate;
            }
        }
        return null;
    }

    /** A connection lingering for {@code tenant}, taken out; null if none. */
    BackendConnection takeLingering(TenantKey tenant) {
        return lingering.take(tenant);
    }

    /** The connection closed while lingering: forget it. */
    void closed(BackendConnection connection) {
        lingering.closed(connection);
    }

    /** Every lingering connection, taken out (shutdown, PAUSE). */
    void drainLingering(Consumer<BackendConnection> each) {
        lingering.drain(each);
    }

    /**
     * A linger that is over (its tenant did not come back in time). The connection goes to a waiter whose tenant
     * holds none; else, once the head has waited {@link #MAX_OVERTAKE_NANOS}, to the waiters in order; else, with
     * nobody waiting, to the idle list. Otherwise every waiter's tenant holds a connection that comes back to it
     * without a reset, so handing this one over would only buy a reset: it lingers on (true), and is looked at again
     * after another {@code TenantLingerMicros} (so the head waits at most that much past its bound).
     */
    private boolean lingersOn(BackendConnection connection, long now) {
        Waiter starving = starvingWaiter();
        if (starving != null && served(starving, connection, now)) {
            return false;
        }
        dropDeparted();
        Waiter head = waiters.peek();
        if (head == null) {
            backToIdle.accept(connection);
            return false;
        }
        if (now - head.sinceNanos() >= overtakeNanos()) {
            if (!handOverInOrder(connection, now)) {
                backToIdle.accept(connection);
            }
            return false;
        }
        return true;
    }

    /** Waiters whose session left, at the head of the queue, dropped (so the head is one that still waits). */
    private void dropDeparted() {
        Waiter head;
        while ((head = waiters.peek()) != null && head.promise().isDone()) {
            waiters.poll();
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
        if (waiter.promise().isDone()) {
            return false; // its session left meanwhile
        }
        // Recorded before the promise completes: its listener starts the lease (and may end it) at once.
        leases.handedOut(connection, waiter.tenant());
        if (!waiter.promise().trySuccess(connection)) {
            leases.returned(connection); // cannot happen on the loop (checked above); kept exact all the same
            return false;
        }
        if (waiter.atCapacity()) {
            stats.waited(now - waiter.sinceNanos());
        }
        leased.accept(now - waiter.sinceNanos());
        return true;
    }

    /** A waiter of the connection's last tenant near the head, taken out of the queue; null if none may go first. */
    private Waiter sameTenantWaiter(BackendConnection connection, long now) {
        Waiter head = waiters.peek();
        TenantKey last = connection.lastTenant();
        if (head == null || last == null || last.equals(head.tenant()) || now - head.sinceNanos() > overtakeNanos()) {
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

    /** PoolSettings.QueryWaitTimeoutSecs now, in nanoseconds; 0 = wait as long as it takes. */
    long queryWaitTimeoutNanos() {
        return settings.get().queryWaitTimeout().toNanos();
    }

    /** Counts a wait that ran out elsewhere (a lease held by PAUSE) like one of this queue's. */
    void countTimedOut() {
        timedOut.run();
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
