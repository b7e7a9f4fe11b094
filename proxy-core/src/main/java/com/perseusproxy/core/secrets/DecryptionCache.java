package com.perseusproxy.core.secrets;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Remembers what a remote decryptor (KMS) returned, so that each distinct ciphertext costs one remote call per
 * process however many logins need it, and a KMS outage does not touch destinations already decrypted.
 * <pre>
 *   decrypt(c) ─► plaintext of c known? ──yes──► return it
 *                  │ no
 *                  ├─ c failed recently, backoff not over? ──► fail at once with the remembered reason
 *                  ├─ another thread is decrypting c? ────────► wait for its result
 *                  └─ call the source ─ ok ──► remember the plaintext (failures of c forgotten), return
 *                                      └ fails ► remember the reason; backoff 1 s, 2 s, 4 s ... up to the maximum
 * </pre>
 * Entries are keyed by the SHA-256 of the ciphertext, not the ciphertext itself. The map of plaintexts is bounded
 * (least recently used entries go first); it only grows when rows get new ciphertexts. Successes are kept for the
 * life of the process: a ciphertext always decrypts to the same plaintext.
 */
final class DecryptionCache {

    /** The remote call. */
    interface Source {
        String decrypt(String ciphertext) throws SecretDecryptionException;
    }

    static final int DEFAULT_MAX_ENTRIES = 10_000;
    static final Duration DEFAULT_FIRST_BACKOFF = Duration.ofSeconds(1);
    static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);

    private final int maxEntries;
    private final long firstBackoffNanos;
    private final long maxBackoffNanos;
    private final LongSupplier nanoClock;
    private final Map<String, String> plaintexts;
    private final Map<String, CompletableFuture<String>> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Failure> failures = new ConcurrentHashMap<>();

    /** The last failure of one ciphertext and when the next attempt is allowed. */
    private record Failure(String reason, int count, long retryAtNanos) {
    }

    DecryptionCache() {
        this(DEFAULT_MAX_ENTRIES, DEFAULT_FIRST_BACKOFF, DEFAULT_MAX_BACKOFF, System::nanoTime);
    }

    DecryptionCache(int maxEntries, Duration firstBackoff, Duration maxBackoff, LongSupplier nanoClock) {
        this.maxEntries = maxEntries;
        this.firstBackoffNanos = firstBackoff.toNanos();
        this.maxBackoffNanos = Math.max(maxBackoff.toNanos(), firstBackoffNanos);
        this.nanoClock = nanoClock;
        this.plaintexts = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > DecryptionCache.this.maxEntries;
            }
        };
    }

    /**
     * @param onFirstDecryption told the fingerprint of a ciphertext whose plaintext was just learned from the source
     */
    String decrypt(String ciphertext, Source source, Consumer<String> onFirstDecryption)
            throws SecretDecryptionException {
        String key = sha256(ciphertext.strip());
        String known = known(key);
        if (known != null) {
            return known;
        }
        Failure failure = failures.get(key);
        long now = nanoClock.getAsLong();
        if (failure != null && now - failure.retryAtNanos < 0) {
            long waitSeconds = Math.max(1, Duration.ofNanos(failure.retryAtNanos - now).toSeconds());
            throw new SecretDecryptionException(failure.reason + " [failed " + failure.count + " time"
                    + (failure.count == 1 ? "" : "s") + "; not retried for another " + waitSeconds + " s]");
        }
        CompletableFuture<String> mine = new CompletableFuture<>();
        CompletableFuture<String> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            return await(running);
        }
        try {
            // Another thread may have finished between the first look and taking the in-flight slot.
            known = known(key);
            if (known == null) {
                known = source.decrypt(ciphertext);
                remember(key, known);
                onFirstDecryption.accept(fingerprint(key));
            }
            failures.remove(key);
            mine.complete(known);
            return known;
        } catch (SecretDecryptionException e) {
            recordFailure(key, e.getMessage());
            mine.completeExceptionally(e);
            throw e;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    /** How many distinct ciphertexts have a known plaintext. */
    int size() {
        synchronized (plaintexts) {
            return plaintexts.size();
        }
    }

    /** First 8 hex digits of the SHA-256 of a ciphertext: names it in logs without its (long) text. */
    static String fingerprintOf(String ciphertext) {
        return fingerprint(sha256(ciphertext.strip()));
    }

    private String known(String key) {
        synchronized (plaintexts) {
            return plaintexts.get(key);
        }
    }

    private void remember(String key, String plaintext) {
        synchronized (plaintexts) {
            plaintexts.put(key, plaintext);
        }
    }

    private void recordFailure(String key, String reason) {
        if (failures.size() >= maxEntries) {
            failures.clear(); // only backoff state is lost: those ciphertexts are simply tried again
        }
        failures.compute(key, (k, previous) -> {
            int count = previous == null ? 1 : previous.count + 1;
            long backoff = firstBackoffNanos << Math.min(count - 1, 20);
            if (backoff <= 0 || backoff > maxBackoffNanos) {
                backoff = maxBackoffNanos;
            }
            return new Failure(reason, count, nanoClock.getAsLong() + backoff);
        });
    }

    private static String await(CompletableFuture<String> running) throws SecretDecryptionException {
        try {
            // Bounded by the source's own timeout: the thread that started the call completes this future.
            return running.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SecretDecryptionException("interrupted while waiting for another login's decryption of the "
                    + "same ciphertext");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SecretDecryptionException failed) {
                throw new SecretDecryptionException(failed.getMessage(), failed);
            }
            throw new IllegalStateException("decryption failed unexpectedly", e.getCause());
        }
    }

    private static String fingerprint(String key) {
        return key.substring(0, 8);
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable in this Java runtime", e);
        }
    }
}
