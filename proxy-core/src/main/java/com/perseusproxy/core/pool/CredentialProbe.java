package com.perseusproxy.core.pool;

import java.util.concurrent.TimeUnit;

/**
 * When a pool tries the latest credentials first although the ones that last worked still do. Without it a pool
 * keeps logging in with the old password after {@code perseus_auth} changed (it still works until {@code ALTER ROLE})
 * and, after {@code ALTER ROLE}, moves to the new one only at its next login, which with a long MaxLifetime may be an
 * hour away: a rotation would never visibly finish. With it the pool's next login tries the latest first (falling
 * back to the old at once if the server refuses it), the pool makes such a login happen, and a refused probe is
 * repeated after 1 s, doubling to 15 s, so the server sees at most a few refused logins while {@code ALTER ROLE} is
 * pending. Runs on the pool's event loop.
 */
final class CredentialProbe {

    private static final long FIRST_DELAY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long MAX_DELAY_NANOS = TimeUnit.SECONDS.toNanos(15);

    private boolean wanted;
    private boolean inFlight;
    private long nextNanos;
    private long delayNanos = FIRST_DELAY_NANOS;

    /** New latest credentials that are not the ones in use: probe them now. */
    void newLatest(long now) {
        wanted = true;
        nextNanos = now;
        delayNanos = FIRST_DELAY_NANOS;
    }

    /** Whether the next login should try the latest first. */
    boolean due(long now) {
        return wanted && !inFlight && now - nextNanos >= 0;
    }

    void started() {
        inFlight = true;
    }

    /** @param latestWorked the login was made with the latest credentials */
    void finished(boolean latestWorked, long now) {
        inFlight = false;
        if (latestWorked) {
            wanted = false;
        } else {
            nextNanos = now + delayNanos;
            delayNanos = Math.min(delayNanos * 2, MAX_DELAY_NANOS);
        }
    }

    /** The latest became the credentials in use some other way (a refused old one, a reload). */
    void settled() {
        wanted = false;
    }
}
