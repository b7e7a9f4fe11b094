package com.perseusproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.pool.PoolSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The operations keys: client timeouts, ServerCheckDelaySecs, ShutdownSettings; defaults, file, environment. */
class OpsConfigTest {

    private static final String MINIMAL = "{ \"AuthDBSettings\": { \"AuthDBDSN\": \"postgres://u@h/db\" } }";

    @Test
    void defaultsAreOffExceptServerCheckAndDrain() throws Exception {
        ProxyConfig config = ProxyConfig.parse(MINIMAL, Map.of());
        assertEquals(Duration.ZERO, config.client().idleInTransactionTimeout());
        assertEquals(Duration.ZERO, config.client().clientIdleTimeout());
        assertEquals(Duration.ZERO, config.client().queryTimeout());
        assertEquals(Duration.ofSeconds(30), config.poolSettings().serverCheckDelay());
        assertEquals(Duration.ofSeconds(25), config.shutdown().drainTimeout());
        ProxyConfig example = ProxyConfig.load(Path.of("..", "config.example.json"), Map.of());
        assertEquals(config.client().timeouts(), example.client().timeouts());
        assertEquals(config.shutdown(), example.shutdown());
        assertEquals(PoolSettings.defaults(), example.poolSettings());
    }

    @Test
    void fileAndEnvironmentSetThem() throws Exception {
        ProxyConfig config = ProxyConfig.parse("""
                { "AuthDBSettings": { "AuthDBDSN": "postgres://u@h/db" },
                  "ClientSettings": { "IdleInTransactionTimeoutSecs": 60, "ClientIdleTimeoutSecs": 600,
                                      "QueryTimeoutSecs": 30 },
                  "PoolSettings": { "ServerCheckDelaySecs": 10 },
                  "OverrideSettings": { "db1/mm": { "ServerCheckDelaySecs": 0 } },
                  "ShutdownSettings": { "DrainTimeoutSecs": 5 } }""", Map.of(
                "PERSEUS_CLIENTSETTINGS_QUERYTIMEOUTSECS", "31",
                "PERSEUS_POOLSETTINGS_SERVERCHECKDELAYSECS", "11",
                "PERSEUS_SHUTDOWNSETTINGS_DRAINTIMEOUTSECS", "6"));
        assertEquals(Duration.ofSeconds(60), config.client().idleInTransactionTimeout());
        assertEquals(Duration.ofSeconds(600), config.client().clientIdleTimeout());
        assertEquals(Duration.ofSeconds(31), config.client().queryTimeout());
        assertEquals(Duration.ofSeconds(11), config.poolSettings().serverCheckDelay());
        assertEquals(Duration.ZERO, config.overrideSettings().get("db1/mm").serverCheckDelay());
        assertEquals(Duration.ofSeconds(6), config.shutdown().drainTimeout());
        ProxyConfig fromEnv = ProxyConfig.parse(MINIMAL, Map.of(
                "PERSEUS_CLIENTSETTINGS_IDLEINTRANSACTIONTIMEOUTSECS", "7",
                "PERSEUS_CLIENTSETTINGS_CLIENTIDLETIMEOUTSECS", "8"));
        assertEquals(Duration.ofSeconds(7), fromEnv.client().idleInTransactionTimeout());
        assertEquals(Duration.ofSeconds(8), fromEnv.client().clientIdleTimeout());
    }

    @Test
    void outOfRangeValuesNameTheKey() {
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.parse("""
                { "AuthDBSettings": { "AuthDBDSN": "postgres://u@h/db" },
                  "ShutdownSettings": { "DrainTimeoutSecs": -1 } }""", Map.of()));
        assertTrue(e.getMessage().contains("ShutdownSettings.DrainTimeoutSecs"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ProxyConfig.parse("""
                { "AuthDBSettings": { "AuthDBDSN": "postgres://u@h/db" },
                  "ClientSettings": { "QueryTimeoutSecs": -5 } }""", Map.of()));
        assertTrue(e.getMessage().contains("ClientSettings.QueryTimeoutSecs"), e.getMessage());
    }
}
