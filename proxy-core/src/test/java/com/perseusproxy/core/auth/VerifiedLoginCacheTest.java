package com.perseusproxy.core.auth;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class VerifiedLoginCacheTest {

    private final AtomicLong now = new AtomicLong(1_000);

    private VerifiedLoginCache cache(int ttlSecs, int size) {
        return new VerifiedLoginCache(Duration.ofSeconds(ttlSecs), size, now::get);
    }

    @Test
    void remembersTheExactRowHashAndPasswordOnly() {
        VerifiedLoginCache cache = cache(60, 10);
        cache.remember(7, "hash-a", "pw", 2);
        assertEquals(2, cache.lookup(7, "hash-a", "pw"));
        assertEquals(0, cache.lookup(7, "hash-a", "pw2"));
        assertEquals(0, cache.lookup(8, "hash-a", "pw"));
        assertEquals(1, cache.hits());
        assertEquals(2, cache.misses());
    }

    @Test
    void entriesExpireAfterTheTtl() {
        VerifiedLoginCache cache = cache(60, 10);
        cache.remember(7, "hash-a", "pw", 1);
        now.addAndGet(Duration.ofSeconds(59).toNanos());
        assertEquals(1, cache.lookup(7, "hash-a", "pw"));
        now.addAndGet(Duration.ofSeconds(2).toNanos());
        assertEquals(0, cache.lookup(7, "hash-a", "pw"));
        assertEquals(0, cache.size());
    }

    @Test
    void sizeBoundEvictsTheLeastRecentlyUsed() {
        VerifiedLoginCache cache = cache(60, 3);
        for (int row = 1; row <= 3; row++) {
            cache.remember(row, "h", "pw", 1);
        }
        assertEquals(1, cache.lookup(1, "h", "pw")); // row 1 is now the most recently used
        cache.remember(4, "h", "pw", 1);
        assertEquals(3, cache.size());
        assertEquals(0, cache.lookup(2, "h", "pw"));
        assertEquals(1, cache.lookup(1, "h", "pw"));
        assertEquals(1, cache.lookup(4, "h", "pw"));
    }

    @Test
    void aChangedHashDropsTheRowsEntriesSoRevertingDoesNotReviveThem() {
        VerifiedLoginCache cache = cache(60, 10);
        cache.remember(7, "old-hash", "old-pw", 1);
        cache.remember(7, "old-hash", "other-pw", 1);
        cache.remember(9, "h9", "pw", 1);
        assertEquals(0, cache.lookup(7, "new-hash", "old-pw"));
        assertEquals(1, cache.size()); // only row 9's entry is left
        assertEquals(0, cache.lookup(7, "old-hash", "old-pw"));
        assertEquals(1, cache.lookup(9, "h9", "pw"));
    }

    @Test
    void zeroTtlTurnsItOff() {
        VerifiedLoginCache cache = cache(0, 0);
        assertFalse(cache.enabled());
        cache.remember(7, "h", "pw", 1);
        assertEquals(0, cache.lookup(7, "h", "pw"));
        assertEquals(0, cache.size());
    }
}
