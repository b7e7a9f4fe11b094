package com.perseusproxy.server.config;

import com.perseusproxy.core.auth.VerifiedLoginCache;
import com.perseusproxy.core.backend.TrackedSettings;

import java.time.Duration;

/**
 * {@code ClientSettings}: limits on what clients may cost the proxy.
 *
 * @param loginTimeout            {@code LoginTimeoutSecs} (default 60): from TCP accept to authenticated
 * @param maxConcurrentHashChecks {@code MaxConcurrentHashChecks} as written; 0 (default) means one per processor,
 *                                see {@link #effectiveMaxConcurrentHashChecks()}
 * @param maxMessageBytes         {@code MaxMessageBytes} (default 64 MiB): the largest client message accepted
 * @param verifiedLoginCacheTtl   {@code VerifiedLoginCacheSecs} (default 60; 0 = off): how long a proved password
 *                                skips scrypt for the same row and stored hash
 * @param verifiedLoginCacheSize  {@code VerifiedLoginCacheSize} (default 10000): entries kept at most
 * @param idleInTransactionTimeout {@code IdleInTransactionTimeoutSecs} (default 0 = off): PgBouncer's
 *                                idle_transaction_timeout
 * @param clientIdleTimeout       {@code ClientIdleTimeoutSecs} (default 0 = off): PgBouncer's client_idle_timeout
 * @param queryTimeout            {@code QueryTimeoutSecs} (default 0 = off): PgBouncer's query_timeout
 * @param trackExtraParameters    {@code TrackExtraParameters} (default statement_timeout, lock_timeout,
 *                                idle_in_transaction_session_timeout, work_mem): session settings, beyond the ones
 *                                PostgreSQL reports, that a client's startup packet or SET carries to every backend
 * @param limits                  {@code MaxClientConnections}, {@code MaxClientConnectionsPerTenant} (0 = no limit)
 *                                and the login throttle ({@code LoginThrottle*}); applied live on reload
 * @param unknownUserAuth         {@code UnknownUserAuth} (default cleartext): how a login that matches no
 *                                perseus_auth row is asked for its password; set at start
 */
public record ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes,
                             Duration verifiedLoginCacheTtl, int verifiedLoginCacheSize,
                             Duration idleInTransactionTimeout, Duration clientIdleTimeout, Duration queryTimeout,
                             TrackedSettings trackExtraParameters,
                             com.perseusproxy.core.session.ClientLimits.Settings limits,
                             com.perseusproxy.core.auth.UnknownUserAuth unknownUserAuth) {

    /** Unknown logins asked in cleartext, as Perseus asks every login. */
    public ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes,
                          Duration verifiedLoginCacheTtl, int verifiedLoginCacheSize,
                          Duration idleInTransactionTimeout, Duration clientIdleTimeout, Duration queryTimeout,
                          TrackedSettings trackExtraParameters,
                          com.perseusproxy.core.session.ClientLimits.Settings limits) {
        this(loginTimeout, maxConcurrentHashChecks, maxMessageBytes, verifiedLoginCacheTtl, verifiedLoginCacheSize,
                idleInTransactionTimeout, clientIdleTimeout, queryTimeout, trackExtraParameters, limits,
                com.perseusproxy.core.auth.UnknownUserAuth.CLEARTEXT);
    }

    /** PgBouncer has no login throttle; these defaults leave a mistyped password or two alone. */
    public static final com.perseusproxy.core.auth.LoginThrottle.Settings DEFAULT_THROTTLE =
            new com.perseusproxy.core.auth.LoginThrottle.Settings(20, 100, 3000, 500);

    /** Without connection limits, with the default login throttle. */
    public ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes,
                          Duration verifiedLoginCacheTtl, int verifiedLoginCacheSize,
                          Duration idleInTransactionTimeout, Duration clientIdleTimeout, Duration queryTimeout,
                          TrackedSettings trackExtraParameters) {
        this(loginTimeout, maxConcurrentHashChecks, maxMessageBytes, verifiedLoginCacheTtl, verifiedLoginCacheSize,
                idleInTransactionTimeout, clientIdleTimeout, queryTimeout, trackExtraParameters,
                new com.perseusproxy.core.session.ClientLimits.Settings(0, 0, DEFAULT_THROTTLE));
    }

    /** Without the session timeouts (all off) and with the default tracked settings. */
    public ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes,
                          Duration verifiedLoginCacheTtl, int verifiedLoginCacheSize) {
        this(loginTimeout, maxConcurrentHashChecks, maxMessageBytes, verifiedLoginCacheTtl, verifiedLoginCacheSize,
                TrackedSettings.DEFAULT);
    }

    /** Without the session timeouts (all off). */
    public ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes,
                          Duration verifiedLoginCacheTtl, int verifiedLoginCacheSize,
                          TrackedSettings trackExtraParameters) {
        this(loginTimeout, maxConcurrentHashChecks, maxMessageBytes, verifiedLoginCacheTtl, verifiedLoginCacheSize,
                Duration.ZERO, Duration.ZERO, Duration.ZERO, trackExtraParameters);
    }

    /** With the default tracked settings. */
    public ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes,
                          Duration verifiedLoginCacheTtl, int verifiedLoginCacheSize,
                          Duration idleInTransactionTimeout, Duration clientIdleTimeout, Duration queryTimeout) {
        this(loginTimeout, maxConcurrentHashChecks, maxMessageBytes, verifiedLoginCacheTtl, verifiedLoginCacheSize,
                idleInTransactionTimeout, clientIdleTimeout, queryTimeout, TrackedSettings.DEFAULT);
    }

    /** The limits before the verified-login cache existed, with its defaults. */
    public ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes) {
        this(loginTimeout, maxConcurrentHashChecks, maxMessageBytes, VerifiedLoginCache.DEFAULT_TTL,
                VerifiedLoginCache.DEFAULT_MAX_ENTRIES);
    }

    /** The timeouts a session checks, in the core's terms; they apply live on reload. */
    public com.perseusproxy.core.session.ClientTimeouts.Settings timeouts() {
        return new com.perseusproxy.core.session.ClientTimeouts.Settings(idleInTransactionTimeout, clientIdleTimeout,
                queryTimeout);
    }

    public VerifiedLoginCache newVerifiedLoginCache() {
        return new VerifiedLoginCache(verifiedLoginCacheTtl, verifiedLoginCacheSize);
    }

    public int effectiveMaxConcurrentHashChecks() {
        return maxConcurrentHashChecks > 0 ? maxConcurrentHashChecks : Runtime.getRuntime().availableProcessors();
    }
}
