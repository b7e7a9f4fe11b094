package com.perseusproxy.core.pool;

import com.perseusproxy.core.protocol.PgException;
import java.time.Duration;

/**
 * How often a pool may try to log in to its destination while logins keep failing: 0.5 s after the first failure,
 * doubling up to 30 s, and only one attempt in flight at a time (the pool enforces that). A wrong password must not
 * turn into a storm of failed logins against the database - PostgreSQL logs each one and may lock the role out
 * through an auth_delay or fail2ban-style guard. When the server could not be reached at all (restart, network) the
 * delay stops at 5 s instead, so service resumes soon after the server is back. Runs on the pool's event loop only.
 */
final class LoginBackoff {

    static final Duration FIRST_DELAY = Duration.ofMillis(500);
    static final Duration MAX_DELAY = Duration.ofSeconds(30);
    static final Duration MAX_DELAY_UNREACHABLE = Duration.ofSeconds(5);

    private int consecutiveFailures;
    private long nextAttemptNanos;
    private PgException lastError;

    boolean failing() {
        return consecutiveFailures > 0;
    }

    /** The error of the last failed login, for clients that cannot be served; null when not failing. */
    PgException lastError() {
        return lastError;
    }

    /** @param refused the server answered and refused the login (as opposed to not being reachable) */
    void failed(long nowNanos, PgException error, boolean refused) {
        consecutiveFailures++;
        lastError = error;
        Duration delay = delay(consecutiveFailures);
        if (!refused && delay.compareTo(MAX_DELAY_UNREACHABLE) > 0) {
            delay = MAX_DELAY_UNREACHABLE;
        }
        nextAttemptNanos = nowNanos + delay.toNanos();
    }

    void succeeded() {
        consecutiveFailures = 0;
        lastError = null;
    }

    /** New credentials are known (a refresh, a login): worth trying at once rather than after the delay. */
    void retryNow(long nowNanos) {
        nextAttemptNanos = nowNanos;
    }

    /** How long until the next attempt is allowed; zero or less means now. */
    long waitNanos(long nowNanos) {
        return failing() ? nextAttemptNanos - nowNanos : 0;
    }

    static Duration delay(int failures) {
        long millis = FIRST_DELAY.toMillis() << Math.min(failures - 1, 16);
        return Duration.ofMillis(Math.min(millis, MAX_DELAY.toMillis()));
    }
}
