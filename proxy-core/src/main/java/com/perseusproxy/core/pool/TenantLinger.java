package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.TenantKey;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;

/**
 * Released connections held for the tenant they served last, for TenantLingerMicros, while other tenants' sessions
 * wait (why, and the figures: {@link WaitQueue}). One timer serves every linger: they all last the same and start in
 * order, so the oldest ends first, and a release costs no timer of its own. What happens to a connection whose linger
 * is over is the queue's decision ({@link Ending}). Lives on the pool's event loop.
 */
final class TenantLinger {

    /** Decides about a connection whose linger is over. */
    interface Ending {
        /** @return true if it lingers on (looked at again after another linger), false if it went elsewhere */
        boolean lingersOn(BackendConnection connection, long now);
    }

    /** A connection held for its last tenant since {@code sinceNanos}. */
    private record Lingering(BackendConnection connection, long sinceNanos) {
    }

    /** Oldest first (a few at most: releases within one linger). */
    private final ArrayDeque<Lingering> lingering = new ArrayDeque<>();
    private final EventLoop loop;
    private final LongSupplier lingerNanos;
    /** Which tenants hold a connection now: a connection taken back by its tenant is recorded there. */
    private final TenantLeases leases;
    /** Told of each connection its tenant took back (the pool-wait histogram: no wait). */
    private final LongConsumer leased;
    private Ending ending = (connection, now) -> false;
    /** Fires when the oldest linger ends; null while none is pending. */
    private ScheduledFuture<?> timer;

    TenantLinger(EventLoop loop, LongSupplier lingerNanos, TenantLeases leases, LongConsumer leased) {
        this.loop = loop;
        this.lingerNanos = lingerNanos;
        this.leases = leases;
        this.leased = leased;
    }

    void onEnding(Ending decides) {
        this.ending = decides;
    }

    /** Holds {@code connection} for its last tenant from {@code now}. */
    void hold(BackendConnection connection, long now) {
        lingering.add(new Lingering(connection, now));
        if (timer == null) {
            timer = loop.schedule(this::expire, lingerNanos.getAsLong(), TimeUnit.NANOSECONDS);
        }
    }

    /** A connection lingering for {@code tenant}, taken out and handed to it; null if none. */
    BackendConnection take(TenantKey tenant) {
        if (tenant == null || lingering.isEmpty()) {
            return null;
        }
        for (Iterator<Lingering> it = lingering.iterator(); it.hasNext(); ) {
            BackendConnection connection = it.next().connection();
            if (tenant.equals(connection.lastTenant())) {
                it.remove();
                leases.handedOut(connection, tenant);
                leased.accept(0);
                return connection;
            }
        }
        return null;
    }

    /** The connection closed while lingering: forget it. */
    void closed(BackendConnection connection) {
        lingering.removeIf(l -> l.connection() == connection);
    }

    /** Every lingering connection, taken out (shutdown, PAUSE). */
    void drain(Consumer<BackendConnection> each) {
        Lingering entry;
        while ((entry = lingering.poll()) != null) {
            each.accept(entry.connection());
        }
    }

    /** The lingers that are over go to {@link Ending}; those that linger on start another; then the timer is set. */
    private void expire() {
        timer = null;
        long now = System.nanoTime();
        long linger = lingerNanos.getAsLong();
        ArrayDeque<Lingering> again = null;
        Lingering oldest;
        while ((oldest = lingering.peek()) != null && now - oldest.sinceNanos() >= linger) {
            lingering.poll();
            if (ending.lingersOn(oldest.connection(), now)) {
                if (again == null) {
                    again = new ArrayDeque<>();
                }
                again.add(new Lingering(oldest.connection(), now));
            }
        }
        if (again != null) {
            lingering.addAll(again);
        }
        Lingering next = lingering.peek();
        if (next != null && timer == null) {
            timer = loop.schedule(this::expire, Math.max(0, next.sinceNanos() + linger - now),
                    TimeUnit.NANOSECONDS);
        }
    }
}
