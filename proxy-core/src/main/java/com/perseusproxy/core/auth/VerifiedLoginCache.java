package com.perseusproxy.core.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Remembers, for a short time, that a password was proved correct for a {@code perseus_auth} row, so a client that
 * reconnects with it skips scrypt (tens of milliseconds and 16 MiB each).
 *
 * <p>An entry is keyed by HMAC-SHA256(row id, stored {@code source_pass_hashed}, password) under a key drawn from
 * {@link SecureRandom} when the cache is made and never leaves the process. The password is not kept, and a MAC
 * without the key is useless for guessing it, so a heap dump yields nothing reusable. Because the stored hash is part
 * of the key, a changed hash simply misses; the row's older entries are dropped too, so reverting the hash does not
 * revive them. Only successes are remembered. Entries expire after the TTL and the least recently used go first when
 * the size bound is reached.
 */
public final class VerifiedLoginCache {

    public static final Duration DEFAULT_TTL = Duration.ofSeconds(60);
    public static final int DEFAULT_MAX_ENTRIES = 10_000;

    private final long ttlNanos;
    private final int maxEntries;
    private final LongSupplier nanoClock;
    private final SecretKeySpec key;
    private final AtomicLong hits = new AtomicLong();
    private final AtomicLong misses = new AtomicLong();
    /** Entries dropped to stay within the size bound (expired and revoked entries are not evictions). */
    private final AtomicLong evictions = new AtomicLong();

    /** Guarded by {@code this}; access order, so the eldest entry is the least recently used. */
    private final LinkedHashMap<ByteBuffer, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    /** Guarded by {@code this}: the stored-hash digest each cached row had when last seen, with its entry count. */
    private final Map<Long, RowState> rows = new HashMap<>();

    private record Entry(long rowId, long expiresAt, int hashPosition) {
    }

    private static final class RowState {
        final ByteBuffer hashDigest;
        int entries;

        RowState(ByteBuffer hashDigest) {
            this.hashDigest = hashDigest;
        }
    }

    /**
     * @param ttl        how long a verified login is remembered; zero turns the cache off
     * @param maxEntries the most entries kept (at least 1 when the cache is on)
     * @param nanoClock  {@link System#nanoTime()} except in tests
     */
    public VerifiedLoginCache(Duration ttl, int maxEntries, LongSupplier nanoClock) {
        if (ttl.isNegative() || (!ttl.isZero() && maxEntries < 1)) {
            throw new IllegalArgumentException("verified-login cache needs a TTL >= 0 and, when on, a size >= 1");
        }
        this.ttlNanos = ttl.toNanos();
        this.maxEntries = maxEntries;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        this.key = new SecretKeySpec(secret, "HmacSHA256");
    }

    public VerifiedLoginCache(Duration ttl, int maxEntries) {
        this(ttl, maxEntries, System::nanoTime);
    }

    public static VerifiedLoginCache defaults() {
        return new VerifiedLoginCache(DEFAULT_TTL, DEFAULT_MAX_ENTRIES);
    }

    public static VerifiedLoginCache disabled() {
        return new VerifiedLoginCache(Duration.ZERO, 0);
    }

    public boolean enabled() {
        return ttlNanos > 0;
    }

    /**
     * @return the 1-based position of the hash that matched when this password was verified for this row and stored
     *     hash within the TTL, else {@link ClientPasswordHashes#NO_MATCH}
     */
    int lookup(long rowId, String storedHash, String password) {
        if (!enabled()) {
            return ClientPasswordHashes.NO_MATCH;
        }
        ByteBuffer mac = mac(rowId, storedHash, password);
        ByteBuffer hashDigest = mac(rowId, storedHash, null);
        long now = nanoClock.getAsLong();
        synchronized (this) {
            forgetRowIfHashChanged(rowId, hashDigest);
            Entry entry = entries.get(mac);
            if (entry != null && now - entry.expiresAt < 0) {
                hits.incrementAndGet();
                return entry.hashPosition;
            }
            if (entry != null) {
                remove(mac);
            }
        }
        misses.incrementAndGet();
        return ClientPasswordHashes.NO_MATCH;
    }

    /** Records that {@code password} matched hash #{@code hashPosition} of the row's {@code storedHash}. */
    void remember(long rowId, String storedHash, String password, int hashPosition) {
        if (!enabled()) {
            return;
        }
        ByteBuffer mac = mac(rowId, storedHash, password);
        ByteBuffer hashDigest = mac(rowId, storedHash, null);
        long expiresAt = nanoClock.getAsLong() + ttlNanos;
        synchronized (this) {
            forgetRowIfHashChanged(rowId, hashDigest);
            if (entries.containsKey(mac)) {
                remove(mac);
            }
            while (entries.size() >= maxEntries) {
                remove(entries.keySet().iterator().next());
                evictions.incrementAndGet();
            }
            entries.put(mac, new Entry(rowId, expiresAt, hashPosition));
            rows.computeIfAbsent(rowId, id -> new RowState(hashDigest)).entries++;
        }
    }

    public long hits() {
        return hits.get();
    }

    public long misses() {
        return misses.get();
    }

    /** Entries dropped, least recently used first, because the cache was full (VerifiedLoginCacheSize). */
    public long evictions() {
        return evictions.get();
    }

    public synchronized int size() {
        return entries.size();
    }

    /** A row whose hash changed (a password revoked or rotated) loses every entry; this is rare, so a scan is fine. */
    private void forgetRowIfHashChanged(long rowId, ByteBuffer hashDigest) {
        RowState row = rows.get(rowId);
        if (row == null || row.hashDigest.equals(hashDigest)) {
            return;
        }
        rows.remove(rowId);
        for (Iterator<Entry> it = entries.values().iterator(); it.hasNext(); ) {
            if (it.next().rowId == rowId) {
                it.remove();
            }
        }
    }

    private void remove(ByteBuffer mac) {
        Entry removed = entries.remove(mac);
        if (removed == null) {
            return;
        }
        RowState row = rows.get(removed.rowId);
        if (row != null && --row.entries <= 0) {
            rows.remove(removed.rowId);
        }
    }

    /**
     * HMAC of the length-prefixed fields, so no two different inputs share an encoding. Without a password it is the
     * row's stored-hash digest (a distinct marker byte keeps it apart from any password MAC).
     */
    private ByteBuffer mac(long rowId, String storedHash, String password) {
        byte[] hash = storedHash.getBytes(StandardCharsets.UTF_8);
        try {
            Mac hmac = Mac.getInstance("HmacSHA256");
            hmac.init(key);
            hmac.update(ByteBuffer.allocate(Long.BYTES + Integer.BYTES).putLong(rowId).putInt(hash.length).array());
            hmac.update(hash);
            if (password == null) {
                hmac.update((byte) 0);
            } else {
                hmac.update((byte) 1);
                hmac.update(password.getBytes(StandardCharsets.UTF_8));
            }
            return ByteBuffer.wrap(hmac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable in this Java runtime", e);
        }
    }
}
