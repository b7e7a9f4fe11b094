package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.TenantKey;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * The sessions that chose to wait for their own tenant's busy connection rather than take another tenant's idle one
 * (see {@link LeasePolicy}), each for at most the patience (TenantLingerMicros); when it is over, the pool looks at
 * them again. One timer serves them all, as {@link WaitQueue}'s QueryWait timer does: every patience is the same
 * length and they start in order, so the oldest always ends first. A timer per waiter cost a scheduled task (a
 * priority-queue insert and a wakeup of the loop) per wait, and about six of sixteen clients wait at any moment in the
 * 8-tenant benchmark. Lives on the pool's event loop.
 */
final class PatienceTimer {

    private record Patient(Promise<BackendConnection> promise, TenantKey tenant, long sinceNanos) {
    }

    private final ArrayDeque<Patient> patients = new ArrayDeque<>();
    private final EventLoop loop;
    private final LongSupplier patienceNanos;
    /** Told of each patient still waiting when its patience is over. */
    private final BiConsumer<Promise<BackendConnection>, TenantKey> over;
    /** Fires when the oldest patience ends; null while none is pending. */
    private ScheduledFuture<?> timer;

    PatienceTimer(EventLoop loop, LongSupplier patienceNanos, BiConsumer<Promise<BackendConnection>, TenantKey> over) {
        this.loop = loop;
        this.patienceNanos = patienceNanos;
        this.over = over;
    }

    /** {@code promise} waits patiently from {@code now}; a served one is simply skipped when its time comes. */
    void start(Promise<BackendConnection> promise, TenantKey tenant, long now) {
        patients.add(new Patient(promise, tenant, now));
        if (timer == null) {
            timer = loop.schedule(this::expire, patienceNanos.getAsLong(), TimeUnit.NANOSECONDS);
        }
    }

    int size() {
        return patients.size();
    }

    private void expire() {
        timer = null;
        long now = System.nanoTime();
        long patience = patienceNanos.getAsLong();
        Patient oldest;
        while ((oldest = patients.peek()) != null && now - oldest.sinceNanos() >= patience) {
            patients.poll();
            if (!oldest.promise().isDone()) {
                over.accept(oldest.promise(), oldest.tenant());
            }
        }
        if (oldest != null && timer == null) { // a patient just started by `over` may have set it already
            timer = loop.schedule(this::expire, Math.max(0, oldest.sinceNanos() + patience - now),
                    TimeUnit.NANOSECONDS);
        }
    }
}
