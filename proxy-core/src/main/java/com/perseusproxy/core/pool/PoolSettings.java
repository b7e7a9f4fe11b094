package com.perseusproxy.core.pool;

import java.time.Duration;

/**
 * The limits of one backend pool (Perseus's {@code PoolSettings}, plus {@code QueryWaitTimeoutSecs}). Immutable: a
 * reload swaps the whole object, and pools read it afresh at each decision.
 *
 * @param maxIdle           idle connections kept; extra ones are closed when returned
 * @param maxOpen           connections open at once (idle + leased + being created)
 * @param maxLifetime       a connection older than this (minus jitter) is closed when next idle; zero = forever
 * @param maxIdleTime       an idle connection unused this long is closed; zero = forever
 * @param connCreateTimeout bound on connect + login of a new backend connection
 * @param connCloseTimeout  bound on a graceful close (Terminate) before the socket is dropped
 * @param schemaExecTimeout bound on the {@code SET search_path} sent at each lease
 * @param queryWaitTimeout  how long a client waits for a free connection before it gets an error
 * @param maxPreparedStatements named prepared statements kept per backend connection (least recently used ones are
 *                          closed); 0 = no tracking: named statements pass through unchanged and only work within
 *                          one transaction
 * @param serverCheckDelay  a connection idle longer than this gets a liveness check (an empty query) before it is
 *                          handed out, as PgBouncer's server_check_delay; zero = check at every hand-out
 * @param globalMaxOpen     connections to this destination across all live replicas (split among them; see
 *                          GlobalBudget); 0 = no global budget
 * @param tenantLinger      how long a released connection is kept for its last tenant's next transaction while
 *                          other tenants wait (see WaitQueue); zero = no linger
 */
public record PoolSettings(int maxIdle, int maxOpen, Duration maxLifetime, Duration maxIdleTime,
                           Duration connCreateTimeout, Duration connCloseTimeout, Duration schemaExecTimeout,
                           Duration queryWaitTimeout, int maxPreparedStatements, Duration serverCheckDelay,
                           int globalMaxOpen, Duration tenantLinger) {

    /** The linger measured best with 8 tenants on a pool of 10 (docs/BENCHMARKS.md, tenants). */
    public static final Duration DEFAULT_TENANT_LINGER = Duration.ofNanos(2_000_000);

    /** With the default tenant linger. */
    public PoolSettings(int maxIdle, int maxOpen, Duration maxLifetime, Duration maxIdleTime,
                        Duration connCreateTimeout, Duration connCloseTimeout, Duration schemaExecTimeout,
                        Duration queryWaitTimeout, int maxPreparedStatements, Duration serverCheckDelay,
                        int globalMaxOpen) {
        this(maxIdle, maxOpen, maxLifetime, maxIdleTime, connCreateTimeout, connCloseTimeout, schemaExecTimeout,
                queryWaitTimeout, maxPreparedStatements, serverCheckDelay, globalMaxOpen, DEFAULT_TENANT_LINGER);
    }

    /** Without a global budget. */
    public PoolSettings(int maxIdle, int maxOpen, Duration maxLifetime, Duration maxIdleTime,
                        Duration connCreateTimeout, Duration connCloseTimeout, Duration schemaExecTimeout,
                        Duration queryWaitTimeout, int maxPreparedStatements, Duration serverCheckDelay) {
        this(maxIdle, maxOpen, maxLifetime, maxIdleTime, connCreateTimeout, connCloseTimeout, schemaExecTimeout,
                queryWaitTimeout, maxPreparedStatements, serverCheckDelay, 0);
    }

    /** This replica's limits when its share of the global budget is {@code share} connections. */
    public PoolSettings withShare(int share) {
        int open = Math.min(maxOpen, share);
        return new PoolSettings(Math.min(maxIdle, open), open, maxLifetime, maxIdleTime, connCreateTimeout,
                connCloseTimeout, schemaExecTimeout, queryWaitTimeout, maxPreparedStatements, serverCheckDelay,
                globalMaxOpen, tenantLinger);
    }

    /** PgBouncer's default server_check_delay. */
    public static final Duration DEFAULT_SERVER_CHECK_DELAY = Duration.ofSeconds(30);

    /** With PgBouncer's server_check_delay of 30 s. */
    public PoolSettings(int maxIdle, int maxOpen, Duration maxLifetime, Duration maxIdleTime,
                        Duration connCreateTimeout, Duration connCloseTimeout, Duration schemaExecTimeout,
                        Duration queryWaitTimeout, int maxPreparedStatements) {
        this(maxIdle, maxOpen, maxLifetime, maxIdleTime, connCreateTimeout, connCloseTimeout, schemaExecTimeout,
                queryWaitTimeout, maxPreparedStatements, DEFAULT_SERVER_CHECK_DELAY);
    }

    /** PgBouncer's default max_prepared_statements. */
    public static final int DEFAULT_MAX_PREPARED_STATEMENTS = 200;

    /**
     * Perseus's defaults from its sample config, with PgBouncer's query_wait_timeout of 120 s,
     * max_prepared_statements of 200 and server_check_delay of 30 s.
     */
    public static PoolSettings defaults() {
        return new PoolSettings(3, 5, Duration.ofSeconds(3600), Duration.ofSeconds(300), Duration.ofSeconds(5),
                Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(120),
                DEFAULT_MAX_PREPARED_STATEMENTS);
    }
}
