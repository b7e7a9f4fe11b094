package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.protocol.PgException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoginBackoffTest {

    @Test
    void delayDoublesFromHalfASecondUpToThirtySeconds() {
        assertEquals(Duration.ofMillis(500), LoginBackoff.delay(1));
        assertEquals(Duration.ofSeconds(1), LoginBackoff.delay(2));
        assertEquals(Duration.ofSeconds(16), LoginBackoff.delay(6));
        assertEquals(Duration.ofSeconds(30), LoginBackoff.delay(7));
        assertEquals(Duration.ofSeconds(30), LoginBackoff.delay(1000));
    }

    @Test
    void anUnreachableServerIsRetriedAtLeastEveryFiveSeconds() {
        LoginBackoff backoff = new LoginBackoff();
        for (int i = 0; i < 10; i++) {
            backoff.failed(0, new PgException("08001", "connection refused"), false);
        }
        assertEquals(Duration.ofSeconds(5).toNanos(), backoff.waitNanos(0));
        backoff.failed(0, new PgException("08004", "refused"), true);
        assertEquals(Duration.ofSeconds(30).toNanos(), backoff.waitNanos(0));
    }

    @Test
    void failingUntilALoginSucceeds() {
        LoginBackoff backoff = new LoginBackoff();
        assertFalse(backoff.failing());
        assertEquals(0, backoff.waitNanos(0));
        PgException error = new PgException("08004", "refused");
        backoff.failed(0, error, true);
        assertTrue(backoff.failing());
        assertEquals(error, backoff.lastError());
        assertEquals(Duration.ofMillis(500).toNanos(), backoff.waitNanos(0));
        backoff.failed(0, error, true);
        assertEquals(Duration.ofSeconds(1).toNanos(), backoff.waitNanos(0));
        backoff.retryNow(0);
        assertEquals(0, backoff.waitNanos(0));
        backoff.succeeded();
        assertFalse(backoff.failing());
        assertNull(backoff.lastError());
    }
}
