package com.perseusproxy.core.backend;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The SCRAM-SHA-256 client and server keys of a backend password for one (salt, iteration count). Deriving them is
 * PBKDF2 with the server's iteration count (4096 by default, a few milliseconds; far more if an operator raised
 * {@code scram_iterations}), which must not run on the event loop. It runs on a small bounded pool, and the result is
 * remembered: a server keeps the same salt for a role until its password changes, so every later login of the pool
 * skips PBKDF2 altogether.
 *
 * <p>Entries are keyed by an HMAC of (user, password, salt, iterations) under a random per-process key, so the map
 * holds no password and no unkeyed hash of one. The keys themselves are as sensitive as the password for this server
 * (they log in), and live only in memory, as the password does.
 */
final class ScramKeys {

    record Keys(byte[] clientKey, byte[] serverKey) {
    }

    static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_256;
    /** PostgreSQL's own rule: SASLprep when the password allows it, else the raw bytes. */
    static final StringPreparation PREPARATION = StringPreparation.POSTGRESQL_PREPARATION;

    private static final int MAX_ENTRIES = 1024;
    private static final ThreadPoolExecutor POOL = pool();
    private static final SecretKeySpec FINGERPRINT_KEY = randomKey();
    private static final AtomicLong DERIVATIONS = new AtomicLong();

    /** Guarded by itself; access order, so the eldest entry is the least recently used. */
    private static final Map<ByteBuffer, Keys> CACHE = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Keys> eldest) {
            return size() > MAX_ENTRIES;
        }
    };

    private ScramKeys() {
    }

    /**
     * @return completes (on a perseus-scram thread, or at once when cached) with the keys, or exceptionally with
     *     {@link RejectedExecutionException} when too many derivations are queued
     */
    static CompletableFuture<Keys> of(BackendCredentials credentials, byte[] salt, int iterations) {
        ByteBuffer fingerprint = fingerprint(credentials, salt, iterations);
        synchronized (CACHE) {
            Keys cached = CACHE.get(fingerprint);
            if (cached != null) {
                return CompletableFuture.completedFuture(cached);
            }
        }
        try {
            return CompletableFuture.supplyAsync(() -> {
                Keys keys = derive(credentials.password(), salt, iterations);
                synchronized (CACHE) {
                    CACHE.put(fingerprint, keys);
                }
                return keys;
            }, POOL);
        } catch (RejectedExecutionException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** PBKDF2 runs so far (for tests). */
    static long derivations() {
        return DERIVATIONS.get();
    }

    private static Keys derive(String password, byte[] salt, int iterations) {
        DERIVATIONS.incrementAndGet();
        byte[] salted = ScramFunctions.saltedPassword(MECHANISM, PREPARATION, password.toCharArray(), salt,
                iterations);
        return new Keys(ScramFunctions.clientKey(MECHANISM, salted), ScramFunctions.serverKey(MECHANISM, salted));
    }

    private static ByteBuffer fingerprint(BackendCredentials credentials, byte[] salt, int iterations) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(FINGERPRINT_KEY);
            for (String part : new String[] {credentials.user(), credentials.password()}) {
                byte[] bytes = part.getBytes(StandardCharsets.UTF_8);
                mac.update(ByteBuffer.allocate(Integer.BYTES).putInt(bytes.length).array());
                mac.update(bytes);
            }
            mac.update(ByteBuffer.allocate(2 * Integer.BYTES).putInt(salt.length).putInt(iterations).array());
            mac.update(salt);
            return ByteBuffer.wrap(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable in this Java runtime", e);
        }
    }

    private static SecretKeySpec randomKey() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return new SecretKeySpec(key, "HmacSHA256");
    }

    /** Two threads: backend logins are rare (pools reuse connections), and a burst should queue, not spread. */
    private static ThreadPoolExecutor pool() {
        AtomicInteger count = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(2, 2, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256),
                runnable -> {
                    Thread thread = new Thread(runnable, "perseus-scram-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                }, new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
