package com.perseusproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The login throttle's token buckets, on a clock the test moves. */
class LoginThrottleTest {

    private final AtomicLong now = new AtomicLong(1_000_000);
    private final LoginThrottle throttle = new LoginThrottle(now::get);
    private final LoginThrottle.Settings settings = new LoginThrottle.Settings(3, 5, 1000, 250);

    @Test
    void aSourceIsRefusedAfterItsBurstAndRegainsOneAttemptPerRefill() {
        for (int i = 0; i < 3; i++) {
            assertEquals(LoginThrottle.Decision.PROCEED, throttle.begin(settings, "10.0.0.1", "db/a"));
            throttle.failed(settings, "10.0.0.1", "db/a");
        }
        assertEquals(LoginThrottle.Decision.REFUSE, throttle.begin(settings, "10.0.0.1", "db/a"));
        assertEquals(LoginThrottle.Decision.PROCEED, throttle.begin(settings, "10.0.0.2", "db/b"),
                "another source and tenant are untouched");
        assertTrue(throttle.retryAfterSeconds(settings, "10.0.0.1", "db/a") >= 1);
        now.addAndGet(1000);
        assertEquals(LoginThrottle.Decision.PROCEED, throttle.begin(settings, "10.0.0.1", "db/a"));
        assertEquals(LoginThrottle.Decision.WAIT, throttle.begin(settings, "10.0.0.1", "db/a"),
                "the one token back is reserved by the check in progress: wait for its outcome");
        throttle.failed(settings, "10.0.0.1", "db/a");
        assertEquals(LoginThrottle.Decision.REFUSE, throttle.begin(settings, "10.0.0.1", "db/a"));
        assertEquals(2, throttle.refusedTotal());
    }

    @Test
    void attemptsInFlightReserveTokensSoAParallelFloodCannotAllReachTheCheck() {
        int proceeded = 0;
        for (int i = 0; i < 100; i++) {
            LoginThrottle.Decision decision = throttle.begin(settings, "10.0.0.1", "db/a");
            if (decision == LoginThrottle.Decision.PROCEED) {
                proceeded++;
            } else {
                assertEquals(LoginThrottle.Decision.WAIT, decision, "nothing has failed yet: nobody is refused");
            }
        }
        assertEquals(3, proceeded);
        assertEquals(0, throttle.refusedTotal());
    }

    @Test
    void aGoodPoolOpeningManyConnectionsAtOnceIsNeverRefused() {
        int succeeded = 0;
        int waits = 0;
        java.util.ArrayDeque<Integer> inFlight = new java.util.ArrayDeque<>();
        for (int attempt = 0; attempt < 40; ) {
            LoginThrottle.Decision decision = throttle.begin(settings, "10.0.0.1", "db/a");
            assertTrue(decision != LoginThrottle.Decision.REFUSE, "a good client is never refused");
            if (decision == LoginThrottle.Decision.PROCEED) {
                inFlight.add(attempt++);
            } else {
                waits++;
                throttle.succeeded(settings, "10.0.0.1", "db/a"); // the oldest check in progress succeeds
                inFlight.poll();
                succeeded++;
            }
        }
        assertEquals(40, succeeded + inFlight.size());
        assertTrue(waits > 0, "more at once than the burst: some waited");
    }

    @Test
    void successesGiveTheTokenBackAndFailuresOfALowBucketAreDelayed() {
        assertEquals(LoginThrottle.Decision.PROCEED, throttle.begin(settings, "10.0.0.1", "db/a"));
        throttle.succeeded(settings, "10.0.0.1", "db/a");
        assertTrue(throttle.throttled(settings).isEmpty(), "nothing throttled after a good login");
        throttle.begin(settings, "10.0.0.1", "db/a");
        assertEquals(0, throttle.failed(settings, "10.0.0.1", "db/a"), "the first failure is answered at once");
        throttle.begin(settings, "10.0.0.1", "db/a");
        assertEquals(250, throttle.failed(settings, "10.0.0.1", "db/a"), "a low bucket's failures wait");
        assertEquals("source", throttle.throttled(settings).get(0)[0]);
    }

    @Test
    void aTenantIsProtectedAcrossSources() {
        for (int i = 0; i < 5; i++) {
            assertEquals(LoginThrottle.Decision.PROCEED, throttle.begin(settings, "10.0.1." + i, "db/a"));
            throttle.failed(settings, "10.0.1." + i, "db/a");
        }
        assertEquals(LoginThrottle.Decision.REFUSE, throttle.begin(settings, "10.0.1.9", "db/a"));
        assertEquals(LoginThrottle.Decision.PROCEED, throttle.begin(settings, "10.0.1.9", "db/b"));
    }
}
