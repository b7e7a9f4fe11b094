package com.perseusproxy.core.pool;

import com.perseusproxy.core.peers.GlobalBudget;
import io.netty.channel.EventLoop;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * One data loop's part of a pool when the proxy runs several loops: a {@link BackendPool} pinned to that loop, whose
 * MaxOpen is the slice's <em>share</em> of the pool's. The shares add up to the pool's MaxOpen. A slice whose sessions
 * wait while it is at its share borrows a unit from a sibling that does not need it, by tasks posted between the two
 * loops, so no lock is taken and each BackendPool stays single-threaded:
 *
 * <pre>
 *  receiver's loop                         donor's loop
 *  a lease waits at the share ── ask ────► spare? (nobody waits, and the share is unused or a connection idle)
 *          ▲                               (or: the donor holds more than its fair share, the receiver less)
 *          │                               no ──► the receiver asks its next sibling
 *          │                               yes: share - 1; a connection above it is closed (idle, or when returned)
 *  share + 1, waiters served ◄── grant ─── once the donor's open connections are within its share
 * </pre>
 *
 * The grant waits for the donor's connection to be gone, so the slices never hold more than MaxOpen backend
 * connections between them, not even while a unit moves. The share is written on the slice's loop only.
 */
final class PoolSlice {

    /** How often a donor looks whether the idle connection it gave up has finished closing. */
    private static final long CLOSE_POLL_MILLIS = 2;
    private static final long MAX_POLL_MILLIS = 50;

    private final PoolSlices group;
    private final int index;
    private final EventLoop loop;
    private final BackendPool pool;
    /** This slice's part of MaxOpen; volatile only so the console and metrics may read it. */
    private volatile int share;
    /** A request for a unit is out (one at a time, so a burst of waiters does not drain every sibling at once). */
    private boolean asking;
    private volatile Derived derived;

    /** The slice's settings, derived from the pool's and kept until either changes (no allocation per lease). */
    private record Derived(PoolSettings whole, int share, PoolSettings mine) {
    }

    PoolSlice(PoolSlices group, int index, EventLoop loop, int share,
              BiFunction<EventLoop, Supplier<PoolSettings>, BackendPool> makePool) {
        this.group = group;
        this.index = index;
        this.loop = loop;
        this.share = share;
        this.pool = makePool.apply(loop, this::settings);
        pool.onFull(this::wantMore);
    }

    BackendPool pool() {
        return pool;
    }

    EventLoop loop() {
        return loop;
    }

    int share() {
        return share;
    }

    /** The pool's settings with MaxOpen (and MaxIdle, if larger) cut to this slice's share. */
    PoolSettings settings() {
        PoolSettings whole = group.wholeSettings();
        int mine = share;
        Derived d = derived;
        if (d == null || d.share() != mine || !d.whole().equals(whole)) {
            d = new Derived(whole, mine, whole.withShare(mine));
            derived = d;
        }
        return d.mine();
    }

    /** Sessions wait while the slice is at its share: ask the siblings for a unit (loop only). */
    void wantMore() {
        // Waiters that a login in progress will serve need no unit: only those beyond them do.
        if (asking || pool.waitingCount() <= pool.openingCount() || pool.openCount() < share) {
            return;
        }
        asking = true;
        ask(1);
    }

    /** Asks the sibling {@code step} places after this one; past the last, gives up until the next wait. */
    private void ask(int step) {
        if (step >= group.size()) {
            asking = false;
            return;
        }
        PoolSlice donor = group.slice((index + step) % group.size());
        donor.loop.execute(() -> donor.donate(this, step));
    }

    /**
     * On the donor's loop: gives a unit if nobody here needs it, or if this slice holds more than its fair share while
     * the receiver holds less (else a slice that borrowed everything while the other loop was quiet would keep it
     * for as long as its own sessions queue); otherwise sends the receiver on to the next sibling.
     */
    private void donate(PoolSlice receiver, int step) {
        payDebt();
        boolean unneeded = pool.waitingCount() == 0 && (pool.openCount() < share || pool.idleCount() > 0);
        boolean owed = share > fairShare() && receiver.share < receiver.fairShare();
        if (share == 0 || !(unneeded || owed)) {
            receiver.loop.execute(() -> receiver.ask(step + 1));
            return;
        }
        share--;
        // With no unused share this closes the least recently used idle connection; with none idle, the next
        // connection returned is closed (BackendPool closes what a lowered MaxOpen leaves over).
        pool.settingsChanged();
        grantWhenClosed(receiver, CLOSE_POLL_MILLIS);
    }

    /** This slice's part of MaxOpen when no unit is lent: the split the pool started with. */
    private int fairShare() {
        return GlobalBudget.exactShare(group.wholeSettings().maxOpen(), group.size(), index);
    }

    private void grantWhenClosed(PoolSlice receiver, long pollMillis) {
        if (pool.openCount() <= share) {
            receiver.loop.execute(receiver::receive);
        } else {
            // A close takes a round trip, a transaction in flight may take longer: look again less and less often.
            loop.schedule(() -> grantWhenClosed(receiver, Math.min(MAX_POLL_MILLIS, pollMillis * 2)), pollMillis,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** On the receiver's loop: the unit arrived (unless a lowered MaxOpen claims it); waiters get in now. */
    private void receive() {
        asking = false;
        if (group.takeDebt(1) == 0) {
            share++;
            pool.settingsChanged();
        }
        wantMore();
    }

    /** MaxOpen was raised: {@code units} more for this slice (loop only). */
    void add(int units) {
        share += units;
        pool.settingsChanged();
    }

    /**
     * MaxOpen was lowered: gives up as much of the pool's debt as this share covers; connections above the new
     * share close as they are returned, as in a single pool (loop only).
     */
    void payDebt() {
        int paid = group.takeDebt(share);
        if (paid > 0) {
            share -= paid;
            pool.settingsChanged();
        }
    }
}
