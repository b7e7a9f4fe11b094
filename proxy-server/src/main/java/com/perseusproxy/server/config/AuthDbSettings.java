package com.perseusproxy.server.config;

import com.perseusproxy.core.config.AuthDbDsn;
import com.perseusproxy.core.config.AuthDbPool;
import com.zaxxer.hikari.HikariConfig;

import java.time.Duration;

/**
 * {@code AuthDBSettings}: where {@code perseus_auth} lives, and how long a lookup may take.
 *
 * @param dsn              {@code AuthDBDSN}
 * @param queryTimeoutSecs {@code AuthQueryTimeoutSecs}, default 2
 */
public record AuthDbSettings(AuthDbDsn dsn, int queryTimeoutSecs) {

    /** HikariCP's lower bounds; smaller pgx values are raised to them rather than silently replaced by defaults. */
    static final Duration MIN_LIFETIME = Duration.ofSeconds(30);
    static final Duration MIN_IDLE_TIMEOUT = Duration.ofSeconds(10);
    static final Duration MIN_KEEPALIVE = Duration.ofSeconds(30);

    /**
     * The lookup pool. The password is set with {@link HikariConfig#setPassword}, never in the URL, so neither
     * HikariCP's nor pgjdbc's logs can print it. The pool starts even while the auth database is down
     * (logins fail with 57P03 until it is up), as Perseus's pgxpool does.
     */
    public HikariConfig toHikariConfig() {
        AuthDbPool pool = dsn.pool();
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("perseus-authdb");
        hikari.setJdbcUrl(dsn.jdbcUrl());
        hikari.setUsername(dsn.user());
        if (dsn.password() != null) {
            hikari.setPassword(dsn.password());
        }
        dsn.secretParameters().forEach(hikari::addDataSourceProperty);
        hikari.setMaximumPoolSize(pool.maxConns());
        hikari.setMinimumIdle(pool.minConns());
        hikari.setMaxLifetime(atLeast(pool.maxConnLifetime(), MIN_LIFETIME));
        hikari.setIdleTimeout(atLeast(pool.maxConnIdleTime(), MIN_IDLE_TIMEOUT));
        hikari.setKeepaliveTime(atLeast(pool.healthCheckPeriod(), MIN_KEEPALIVE));
        // A login waits for a pooled connection no longer than for the query itself.
        hikari.setConnectionTimeout(Duration.ofSeconds(queryTimeoutSecs).toMillis());
        hikari.setValidationTimeout(Math.min(5000, Duration.ofSeconds(queryTimeoutSecs).toMillis()));
        if (!dsn.parameters().containsKey("connectTimeout")) {
            hikari.addDataSourceProperty("connectTimeout", String.valueOf(queryTimeoutSecs));
        }
        hikari.setInitializationFailTimeout(-1);
        return hikari;
    }

    /** Zero keeps its meaning (never); positive values below HikariCP's minimum are raised to it. */
    private static long atLeast(Duration value, Duration minimum) {
        if (value.isZero()) {
            return 0;
        }
        return Math.max(value.toMillis(), minimum.toMillis());
    }

    @Override
    public String toString() {
        return "AuthDbSettings[dsn=" + dsn + ", queryTimeoutSecs=" + queryTimeoutSecs + "]";
    }
}
