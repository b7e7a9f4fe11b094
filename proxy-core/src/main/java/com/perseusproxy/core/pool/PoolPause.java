package com.perseusproxy.core.pool;

import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The console's PAUSE of one pool: new leases are held (not refused) until RESUME, so clients that are between
 * transactions simply wait while the operator fails the database over, and no client needs a restart. A PAUSE is
 * complete once every lease in flight has been returned; its promise completes then. Runs on the pool's loop only.
 */
final class PoolPause {

    private boolean paused;
    private final ArrayDeque<Runnable> held = new ArrayDeque<>();
    private final List<Promise<Void>> quietWaiters = new ArrayList<>();

    boolean paused() {
        return paused;
    }

    void pause(Promise<Void> whenQuiet) {
        paused = true;
        quietWaiters.add(whenQuiet);
    }

    /** A lease asked for while paused: runs at RESUME. */
    void hold(Runnable acquire) {
        held.add(acquire);
    }

    int heldCount() {
        return held.size();
    }

    /** Nothing is leased any more: the PAUSE commands waiting for that may return. */
    void quiet() {
        List<Promise<Void>> done = new ArrayList<>(quietWaiters);
        quietWaiters.clear();
        done.forEach(p -> p.trySuccess(null));
    }

    /** @return the held leases, in the order they were asked for */
    List<Runnable> resume() {
        paused = false;
        List<Runnable> release = new ArrayList<>(held);
        held.clear();
        // A PAUSE still waiting for its transactions is moot once resumed.
        quiet();
        return release;
    }
}
