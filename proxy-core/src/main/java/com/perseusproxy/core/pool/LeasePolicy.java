package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.backend.TenantKey;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Promise;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which connection a lease gets, and when: a connection lingering for the tenant, an idle one (checked first if it
 * has been idle long), a place in the {@link WaitQueue}, or (see the PITFALL in {@link #serve}) a short patient wait
 * for the tenant's own busy connection. The pool's half that hands out; {@link BackendPool} takes back. Lives on the
 * pool's event loop.
 */
final class LeasePolicy {

    private static final Logger log = LoggerFactory.getLogger(LeasePolicy.class);

    private final Destination destination;
    private final Supplier<PoolSettings> settings;
    private final TenantLeases leases;
    private final IdleConnections idle;
    private final WaitQueue waiters;
    private final PoolLogins logins;
    /** Takes back a connection whose checked hand-out found its client gone. */
    private final Consumer<BackendConnection> release;
    private final PatienceTimer patience;
    private ProxyEvents.Pool poolEvents = ProxyEvents.Pool.NONE;
    /** Runs when a lease has to wait because the pool is at MaxOpen; set once by a {@link PoolSlice}. */
    private Runnable onFull = () -> { };

    LeasePolicy(Destination destination, EventLoop loop, Supplier<PoolSettings> settings, TenantLeases leases,
                IdleConnections idle, WaitQueue waiters, PoolLogins logins, Consumer<BackendConnection> release) {
        this.destination = destination;
        this.settings = settings;
        this.leases = leases;
        this.idle = idle;
        this.waiters = waiters;
        this.logins = logins;
        this.release = release;
        this.patience = new PatienceTimer(loop, waiters::lingerNanos, this::patienceOver);
    }

    void reportTo(ProxyEvents.Pool poolEvents) {
        this.poolEvents = poolEvents;
    }

    void onFull(Runnable hook) {
        this.onFull = hook;
    }

    /** An idle connection for the promise now (checked first if idle long), else a place in the queue. */
    void serve(Promise<BackendConnection> promise, TenantKey tenant) {
        long now = System.nanoTime();
        BackendConnection lingering = waiters.takeLingering(tenant);
        if (lingering != null) {
            promise.setSuccess(lingering); // its tenant is back in time: no reset (see WaitQueue)
            return;
        }
        // Connections are idle while sessions wait only when those chose to wait for their own tenant's (below).
        if (waiters.isEmpty() || !idle.isEmpty()) {
            if (idle.onlyOtherTenants(tenant) && leases.holdsAny(tenant) && waiters.lingerNanos() > 0) {
                // PITFALL: taking another tenant's idle connection costs a session reset now and, when that tenant's
                // client comes back a moment later, another one for it. This tenant holds a connection that comes
                // back when its transaction ends (usually well under a millisecond), so it waits for that one, for
                // at most TenantLingerMicros, and only then takes the idle one (see patienceOver). One timer serves
                // every such wait (PatienceTimer).
                waiters.add(promise, now, false, tenant);
                patience.start(promise, tenant, now);
                return;
            }
            BackendConnection connection = idle.take(now, tenant, logins.open(), logins.creating());
            if (connection != null) {
                handOutIdle(connection, promise, tenant, now);
                return;
            }
        }
        boolean full = logins.open() >= settings.get().maxOpen();
        waiters.add(promise, now, full, tenant);
        if (full) {
            onFull.run(); // a slice asks its siblings for a unit of MaxOpen (PoolSlice)
        }
        logins.openMoreIfNeeded();
    }

    private void handOutIdle(BackendConnection connection, Promise<BackendConnection> promise, TenantKey tenant,
                             long now) {
        if (needsLivenessCheck(connection, now)) {
            checkThenHandOut(connection, promise, tenant);
            return;
        }
        leases.handedOut(connection, tenant);
        poolEvents.leased(0);
        promise.setSuccess(connection);
    }

    /**
     * A session that waited for its own tenant's connection rather than take another tenant's idle one (see serve):
     * if it still waits and a connection is still idle, it takes that one now (paying the reset after all).
     */
    private void patienceOver(Promise<BackendConnection> promise, TenantKey tenant) {
        if (promise.isDone() || idle.isEmpty() || !waiters.remove(promise)) {
            return; // served meanwhile, or nothing idle to take: it waits in the queue as anyone would
        }
        long now = System.nanoTime();
        BackendConnection connection = idle.take(now, tenant, logins.open(), logins.creating());
        if (connection != null) {
            handOutIdle(connection, promise, tenant, now);
        } else {
            serve(promise, tenant);
        }
    }

    /** ServerCheckDelaySecs: a connection idle longer than this may have been dropped (a firewall, a restart). */
    private boolean needsLivenessCheck(BackendConnection connection, long now) {
        return now - connection.idleSinceNanos() >= settings.get().serverCheckDelay().toNanos();
    }

    /**
     * Hands out {@code connection} once the server has answered an empty query; a dead one is closed and the promise
     * served again (another idle connection, a new one, or the queue), so the client never sees it.
     */
    private void checkThenHandOut(BackendConnection connection, Promise<BackendConnection> promise,
                                  TenantKey tenant) {
        connection.checkAlive(settings.get().connCreateTimeout()).addListener(f -> {
            if (f.isSuccess()) {
                leases.handedOut(connection, tenant);
                poolEvents.leased(0);
                if (!promise.trySuccess(connection)) {
                    release.accept(connection); // the client left meanwhile
                }
                return;
            }
            log.info("pool {}: {}; replacing it", destination, f.cause().getMessage());
            if (!promise.isDone()) {
                serve(promise, tenant);
            }
        });
    }
}
