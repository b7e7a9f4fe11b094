package com.perseusproxy.core.config;

import java.time.Duration;

/**
 * The pool parameters Perseus reads from the AuthDBDSN query string (pgxpool's names and defaults).
 *
 * @param maxConns              pool_max_conns, default 4
 * @param minConns              pool_min_conns, default 0
 * @param maxConnLifetime       pool_max_conn_lifetime, default 1h
 * @param maxConnIdleTime       pool_max_conn_idle_time, default 30m
 * @param healthCheckPeriod     pool_health_check_period, default 1m
 * @param maxConnLifetimeJitter pool_max_conn_lifetime_jitter, default 0 (accepted for compatibility; HikariCP
 *                              applies its own small random variance to lifetimes instead)
 */
public record AuthDbPool(int maxConns, int minConns, Duration maxConnLifetime, Duration maxConnIdleTime,
                         Duration healthCheckPeriod, Duration maxConnLifetimeJitter) {

    public static AuthDbPool defaults() {
        return new AuthDbPool(4, 0, Duration.ofHours(1), Duration.ofMinutes(30), Duration.ofMinutes(1),
                Duration.ZERO);
    }
}
