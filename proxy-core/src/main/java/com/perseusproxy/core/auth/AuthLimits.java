package com.perseusproxy.core.auth;

import java.time.Duration;

/**
 * Bounds on the work logins may cause. One scrypt check at Perseus's cost takes about 16 MiB and tens of
 * milliseconds, so a reconnect storm must queue (briefly) rather than run thousands of checks at once.
 *
 * @param maxConcurrentHashChecks scrypt checks running at once (threads of the hash pool)
 * @param hashQueueCapacity       logins waiting for a hash thread; beyond this, logins fail fast with 53300
 * @param hashQueueDeadline       a login that waited this long for a hash thread fails with 53300 instead of being
 *                                checked: its client has likely given up, and the work would only delay others
 * @param lookupThreads           threads for blocking calls (auth-database lookups, decryption)
 * @param lookupQueueCapacity     logins waiting for a lookup thread; beyond this, logins fail fast with 53300
 */
public record AuthLimits(int maxConcurrentHashChecks, int hashQueueCapacity, Duration hashQueueDeadline,
                         int lookupThreads, int lookupQueueCapacity) {

    public AuthLimits {
        if (maxConcurrentHashChecks < 1 || hashQueueCapacity < 1 || lookupThreads < 1 || lookupQueueCapacity < 1
                || hashQueueDeadline.isNegative() || hashQueueDeadline.isZero()) {
            throw new IllegalArgumentException("every authentication limit must be positive: " + this);
        }
    }

    /** One hash check per processor. */
    public static AuthLimits defaults() {
        return withHashChecks(0);
    }

    /** @param maxConcurrentHashChecks {@code ClientSettings.MaxConcurrentHashChecks}; 0 means one per processor */
    public static AuthLimits withHashChecks(int maxConcurrentHashChecks) {
        int checks = maxConcurrentHashChecks > 0 ? maxConcurrentHashChecks
                : Runtime.getRuntime().availableProcessors();
        return new AuthLimits(checks, 256, Duration.ofSeconds(10), 8, 1024);
    }
}
