package com.perseusproxy.core.auth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Bounds what password guessing may cost: a token bucket per source address and one per tenant. A failed login
 * spends a token, tokens come back at a steady rate, and with no token left an attempt is refused at once, without a
 * password check, for as long as the bucket is empty; while a bucket is low, failures are answered after a delay.
 *
 * <p>A check in progress reserves a token, so that a flood of parallel attempts cannot all reach scrypt before the
 * first failures are counted. An attempt that finds every remaining token reserved <em>waits</em> ({@link
 * Decision#WAIT}) rather than being refused: a good client's pool that opens 40 connections at once from one address
 * must not be mistaken for guessing (a success hands its reservation back without spending anything).
 * Guessers thus pay in time and the proxy spends at most {@code burst + elapsed / refill} checks per address and per
 * tenant, while other tenants' clients are untouched.
 *
 * <p>Not thread-safe: ClientLimits, which every data loop shares, calls it under its own lock. Both maps are bounded (least recently used keys go), so random schema
 * names or spoofed addresses cannot grow them without limit.
 */
public final class LoginThrottle {

    /**
     * @param sourceBurst   attempts a source address may fail in a row before it is refused (0 = no source limit)
     * @param tenantBurst   the same per tenant (database/schema), across all sources (0 = no tenant limit)
     * @param refillMillis  one token comes back this often
     * @param delayMillis   how long a failure (or refusal) of a throttled key waits before it is answered
     */
    public record Settings(int sourceBurst, int tenantBurst, long refillMillis, long delayMillis) {
        public static final Settings OFF = new Settings(0, 0, 10_000, 0);
    }

    /** What to do with an attempt. */
    public enum Decision { PROCEED, WAIT, REFUSE }

    private static final int MAX_KEYS = 10_000;

    private final LongSupplier clock;
    private final Map<String, Bucket> sources = lru();
    private final Map<String, Bucket> tenants = lru();
    private final AtomicLong refused = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();

    public LoginThrottle() {
        this(() -> System.nanoTime() / 1_000_000);
    }

    /** @param clock milliseconds, monotonic (tests pass their own) */
    public LoginThrottle(LongSupplier clock) {
        this.clock = clock;
    }

    private static final class Bucket {
        double tokens;
        /** Checks in progress, each reserving one token. */
        int inFlight;
        long updatedMillis;
        long failures;
        long refused;

        Bucket(int burst, long now) {
            tokens = burst;
            updatedMillis = now;
        }

        void refill(int burst, long refillMillis, long now) {
            tokens = Math.min(burst, tokens + (now - updatedMillis) / (double) Math.max(1, refillMillis));
            updatedMillis = now;
        }
    }

    /**
     * Called before the password is checked. PROCEED reserves a token of both buckets (given back by
     * {@link #succeeded}, spent by {@link #failed}); WAIT: every token left is reserved by checks in progress, ask
     * again shortly; REFUSE: failures emptied a bucket.
     */
    public Decision begin(Settings settings, String source, String tenant) {
        long now = clock.getAsLong();
        Bucket s = bucket(sources, source, settings.sourceBurst(), settings, now);
        Bucket t = bucket(tenants, tenant, settings.tenantBurst(), settings, now);
        if ((s != null && s.tokens < 1) || (t != null && t.tokens < 1)) {
            refused.incrementAndGet();
            if (s != null) {
                s.refused++;
            }
            if (t != null) {
                t.refused++;
            }
            return Decision.REFUSE;
        }
        if ((s != null && s.tokens - s.inFlight < 1) || (t != null && t.tokens - t.inFlight < 1)) {
            return Decision.WAIT;
        }
        if (s != null) {
            s.inFlight++;
        }
        if (t != null) {
            t.inFlight++;
        }
        return Decision.PROCEED;
    }

    /** The login succeeded (or failed for another reason than the password): its reservations are handed back. */
    public void succeeded(Settings settings, String source, String tenant) {
        endCheck(sources.get(source), false);
        endCheck(tenants.get(tenant), false);
    }

    private static void endCheck(Bucket bucket, boolean spend) {
        if (bucket == null) {
            return;
        }
        bucket.inFlight = Math.max(0, bucket.inFlight - 1);
        if (spend) {
            bucket.tokens--;
        }
    }

    /**
     * The password was wrong (the tokens stay taken).
     *
     * @return how long to wait before answering: the delay once a bucket is half empty, else 0
     */
    public long failed(Settings settings, String source, String tenant) {
        failures.incrementAndGet();
        Bucket s = sources.get(source);
        Bucket t = tenants.get(tenant);
        endCheck(s, true);
        endCheck(t, true);
        boolean low = false;
        if (s != null) {
            s.failures++;
            low = s.tokens < settings.sourceBurst() / 2.0;
        }
        if (t != null) {
            t.failures++;
            low |= t.tokens < settings.tenantBurst() / 2.0;
        }
        return low ? settings.delayMillis() : 0;
    }

    /** Seconds until a refused key may try again (for the error message). */
    public long retryAfterSeconds(Settings settings, String source, String tenant) {
        double missing = 0;
        Bucket s = sources.get(source);
        Bucket t = tenants.get(tenant);
        if (s != null && s.tokens < 1) {
            missing = Math.max(missing, 1 - s.tokens);
        }
        if (t != null && t.tokens < 1) {
            missing = Math.max(missing, 1 - t.tokens);
        }
        return (long) Math.ceil(missing * settings.refillMillis() / 1000.0);
    }

    public long refusedTotal() {
        return refused.get();
    }

    public long failuresTotal() {
        return failures.get();
    }

    /** Keys that are throttled now (fewer tokens than their burst), for the console and the metrics. */
    public List<String[]> throttled(Settings settings) {
        long now = clock.getAsLong();
        List<String[]> rows = new ArrayList<>();
        add(rows, "source", sources, settings.sourceBurst(), settings, now);
        add(rows, "tenant", tenants, settings.tenantBurst(), settings, now);
        return rows;
    }

    private static void add(List<String[]> rows, String kind, Map<String, Bucket> map, int burst, Settings settings,
                            long now) {
        map.forEach((key, b) -> {
            b.refill(burst, settings.refillMillis(), now);
            if (b.tokens < burst) {
                long blockedFor = b.tokens >= 1 ? 0
                        : (long) Math.ceil((1 - b.tokens) * settings.refillMillis() / 1000.0);
                rows.add(new String[] {kind, key, String.valueOf((long) Math.floor(b.tokens)),
                        String.valueOf(b.failures), String.valueOf(b.refused), String.valueOf(blockedFor)});
            }
        });
    }

    private Bucket bucket(Map<String, Bucket> map, String key, int burst, Settings settings, long now) {
        if (burst <= 0 || key == null) {
            return null;
        }
        Bucket b = map.computeIfAbsent(key, k -> new Bucket(burst, now));
        b.refill(burst, settings.refillMillis(), now);
        return b;
    }

    private static Map<String, Bucket> lru() {
        return new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
                return size() > MAX_KEYS;
            }
        };
    }
}
