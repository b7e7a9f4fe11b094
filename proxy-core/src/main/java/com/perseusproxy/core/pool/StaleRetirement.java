package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When one {@link BackendPool} may retire a <em>stale</em> connection (past MaxLifetime, or logged in with credentials
 * that are no longer the ones that work), and the bookkeeping of retirements: the proof a login has to give before
 * the next one. The pool decides where (release, eviction, hand-out) and closes the connection; this class decides
 * whether.
 *
 * <p>Kept apart from the pool because it is the rotation rule, not leasing: PostgreSQL keeps an open connection valid
 * after {@code ALTER ROLE ... PASSWORD}, so old connections must keep serving until a new login has worked. Runs on
 * the pool's loop only.
 */
final class StaleRetirement {

    /** Logged as the pool's: these lines are part of the pool's story. */
    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);
    /** An idle, stale last connection is closed only after this long unused: the pool is quiet, not between two
     *  transactions. */
    static final long QUIET_POOL_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final Destination destination;
    private final CredentialSet credentials;
    private final LoginBackoff backoff;
    private final PoolStats stats;
    /** A stale connection was retired and no login has succeeded since: the next one waits for that proof. */
    private boolean retirementUnproven;
    private long lastRetirementNanos;
    /** Set once, on the loop, right after the pool is made (see {@link BackendPool#reportTo}). */
    private ProxyEvents events = ProxyEvents.NONE;

    StaleRetirement(Destination destination, CredentialSet credentials, LoginBackoff backoff, PoolStats stats) {
        this.destination = destination;
        this.credentials = credentials;
        this.backoff = backoff;
        this.stats = stats;
    }

    void reportTo(ProxyEvents events) {
        this.events = events;
    }

    /** Past MaxLifetime, or logged in with credentials that are no longer the ones that work. */
    boolean isStale(BackendConnection connection, long now) {
        return connection.isExpired(now) || !connection.credentials().equals(credentials.current());
    }

    /**
     * Whether a stale connection may be closed now. Not while logins fail (it may be all the pool has), and not while
     * one is in flight ({@code creating}): during {@code ALTER ROLE} the pool learns that the password changed only
     * when a login fails, so stale connections are retired one at a time, each followed by a login that proves a
     * replacement works (or, in a pool too quiet to log in again, a few seconds apart).
     */
    boolean mayRetire(long now, int creating) {
        return !backoff.failing() && creating == 0
                && (!retirementUnproven || now - lastRetirementNanos >= QUIET_POOL_NANOS);
    }

    /** The pool retires {@code connection} now: counted, and the next retirement waits for a login's proof. */
    void retiring(BackendConnection connection, long now) {
        retirementUnproven = true;
        lastRetirementNanos = now;
        if (connection.isExpired(now)) {
            stats.closedForLifetime();
        } else {
            log.debug("pool {}: retiring a connection logged in with {}", destination, connection.credentials());
            events.rotation(ProxyEvents.Rotation.CONNECTION_RETIRED);
        }
    }

    /** A login succeeded: the credentials it used work, so the next stale connection may go. */
    void proven() {
        retirementUnproven = false;
    }
}
