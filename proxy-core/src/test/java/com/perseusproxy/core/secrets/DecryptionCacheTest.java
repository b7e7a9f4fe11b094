package com.perseusproxy.core.secrets;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DecryptionCacheTest {

    final AtomicLong now = new AtomicLong();
    final AtomicInteger calls = new AtomicInteger();
    final List<String> firstTimes = new ArrayList<>();

    DecryptionCache cache(int maxEntries) {
        return new DecryptionCache(maxEntries, Duration.ofSeconds(1), Duration.ofSeconds(4), now::get);
    }

    String decrypt(DecryptionCache cache, String ciphertext) throws SecretDecryptionException {
        return cache.decrypt(ciphertext, c -> {
            calls.incrementAndGet();
            return "plain:" + c;
        }, firstTimes::add);
    }

    @Test
    void remembersPlaintextsUpToItsBoundLeastRecentlyUsedFirst() throws Exception {
        DecryptionCache cache = cache(2);
        decrypt(cache, "a");
        decrypt(cache, "b");
        decrypt(cache, "a");
        assertEquals(2, calls.get());
        decrypt(cache, "c"); // evicts b, the least recently used
        decrypt(cache, "a");
        assertEquals(3, calls.get());
        assertEquals("plain:b", decrypt(cache, "b"));
        assertEquals(4, calls.get());
        assertEquals(2, cache.size());
        assertEquals(DecryptionCache.fingerprintOf("a"), firstTimes.get(0));
        assertEquals(8, firstTimes.get(0).length());
    }

    @Test
    void backoffDoublesUpToItsMaximumAndSuccessForgetsIt() throws Exception {
        DecryptionCache cache = cache(10);
        AtomicInteger failuresLeft = new AtomicInteger(4);
        DecryptionCache.Source flaky = c -> {
            calls.incrementAndGet();
            if (failuresLeft.getAndDecrement() > 0) {
                throw new SecretDecryptionException("KMS is down");
            }
            return "ok";
        };
        long[] expectedBackoffSeconds = {1, 2, 4, 4};
        for (long backoff : expectedBackoffSeconds) {
            assertEquals("KMS is down", assertThrows(SecretDecryptionException.class,
                    () -> cache.decrypt("c", flaky, s -> { })).getMessage());
            SecretDecryptionException waiting = assertThrows(SecretDecryptionException.class,
                    () -> cache.decrypt("c", flaky, s -> { }));
            assertTrue(waiting.getMessage().startsWith("KMS is down [failed")
                    && waiting.getMessage().endsWith("not retried for another " + backoff + " s]"),
                    waiting.getMessage());
            now.addAndGet(Duration.ofSeconds(backoff).toNanos());
        }
        assertEquals(4, calls.get());
        assertEquals("ok", cache.decrypt("c", flaky, s -> { }));
        assertEquals(5, calls.get());
    }

    @Test
    void loginsWaitingForTheSameCallShareItsFailure() throws Exception {
        DecryptionCache cache = cache(10);
        CountDownLatch inCall = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        DecryptionCache.Source slowFailure = c -> {
            calls.incrementAndGet();
            inCall.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new SecretDecryptionException("timed out");
        };
        CompletableFuture<String> leader = CompletableFuture.supplyAsync(() -> call(cache, slowFailure));
        assertTrue(inCall.await(10, TimeUnit.SECONDS));
        CompletableFuture<String> follower = CompletableFuture.supplyAsync(() -> call(cache, slowFailure));
        Thread.sleep(100); // lets the follower reach the in-flight call
        release.countDown();
        for (CompletableFuture<String> login : List.of(leader, follower)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> login.get(10, TimeUnit.SECONDS));
            assertInstanceOf(SecretDecryptionException.class, e.getCause().getCause());
            assertTrue(e.getCause().getCause().getMessage().startsWith("timed out"));
        }
        assertEquals(1, calls.get());
    }

    private static String call(DecryptionCache cache, DecryptionCache.Source source) {
        try {
            return cache.decrypt("slow", source, s -> { });
        } catch (SecretDecryptionException e) {
            throw new IllegalStateException(e);
        }
    }
}
