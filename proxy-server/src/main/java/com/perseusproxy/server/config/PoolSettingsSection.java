package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.pool.PoolSettings;

import java.time.Duration;
import java.util.List;

/**
 * Reads a {@code PoolSettings} object (the top-level one, or one entry of {@code OverrideSettings}) into the core
 * {@link PoolSettings}. Keys left out take the value of {@code base}: Perseus's defaults for the top level, the
 * top-level settings for an override, so an override names only what differs.
 */
final class PoolSettingsSection {

    static final List<String> KEYS = List.of("MaxIdle", "MaxOpen", "MaxLifetimeSecs", "MaxIdletimeSecs",
            "ConnCreateTimeoutSecs", "ConnCloseTimeoutSecs", "SchemaExecTimeoutSecs", "QueryWaitTimeoutSecs",
            "MaxPreparedStatements", "ServerCheckDelaySecs", "GlobalMaxOpen", "TenantLingerMicros");
    private static final int MAX = Integer.MAX_VALUE;

    private PoolSettingsSection() {
    }

    static PoolSettings read(JsonSection s, PoolSettings base) throws ConfigException {
        int maxOpen = s.integer("MaxOpen", base.maxOpen(), 1, MAX, "connections per backend pool");
        // As Go's database/sql does: more idle than open connections cannot exist, so MaxIdle is capped at MaxOpen.
        int maxIdle = Math.min(s.integer("MaxIdle", base.maxIdle(), 0, MAX, ""), maxOpen);
        return new PoolSettings(maxIdle, maxOpen,
                seconds(s, "MaxLifetimeSecs", base.maxLifetime(), 0, "0 = no limit"),
                seconds(s, "MaxIdletimeSecs", base.maxIdleTime(), 0, "0 = no limit"),
                seconds(s, "ConnCreateTimeoutSecs", base.connCreateTimeout(), 1, ""),
                seconds(s, "ConnCloseTimeoutSecs", base.connCloseTimeout(), 0, ""),
                seconds(s, "SchemaExecTimeoutSecs", base.schemaExecTimeout(), 1, ""),
                seconds(s, "QueryWaitTimeoutSecs", base.queryWaitTimeout(), 0, "0 = wait without limit"),
                s.integer("MaxPreparedStatements", base.maxPreparedStatements(), 0, MAX,
                        "named prepared statements per backend connection, 0 = pass them through untracked"),
                seconds(s, "ServerCheckDelaySecs", base.serverCheckDelay(), 0,
                        "idle seconds after which a connection is checked before use; 0 = check every time"),
                s.integer("GlobalMaxOpen", base.globalMaxOpen(), 0, MAX,
                        "connections to this destination across all live replicas; 0 = no global budget"),
                Duration.ofNanos(1000L * s.integer("TenantLingerMicros", (int) (base.tenantLinger().toNanos() / 1000),
                        0, 1_000_000, "microseconds a released connection waits for its tenant; 0 = no linger")));
    }

    private static Duration seconds(JsonSection s, String key, Duration base, int min, String rule)
            throws ConfigException {
        return Duration.ofSeconds(s.integer(key, (int) base.toSeconds(), min, MAX, rule));
    }
}
