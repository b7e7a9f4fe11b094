package com.perseusproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.config.ConfigException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AdminSettings and the new ClientSettings limits: file, environment, errors, and SHOW CONFIG's listing. */
class AdminConfigTest {

    private static final String DSN = "\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u:pw-secret@h/db\"}";

    @Test
    void adminSettingsFromTheFileAndTheEnvironment() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{" + DSN + ", \"AdminSettings\": {\"AdminUsers\": {\"ops\": \"h1,h2\"},"
                + " \"statsusers\": {\"grafana\": \"h3\"}}}", Map.of());
        assertEquals(Map.of("ops", "h1,h2"), config.admin().adminUsers());
        assertEquals(Map.of("grafana", "h3"), config.admin().statsUsers());
        assertFalse(config.admin().toString().contains("h1"), "toString names users, never hashes");
        ProxyConfig fromEnv = ProxyConfig.parse("{" + DSN + "}",
                Map.of("PERSEUS_ADMINSETTINGS_ADMINUSERS", "{\"root\": \"h9\"}"));
        assertEquals(Map.of("root", "h9"), fromEnv.admin().adminUsers());
        assertTrue(ProxyConfig.parse("{" + DSN + "}", Map.of()).admin().adminUsers().isEmpty(), "off by default");
    }

    @Test
    void badAdminSettingsSayWhatToFix() {
        ConfigException empty = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{" + DSN
                + ", \"AdminSettings\": {\"AdminUsers\": {\"ops\": \"\"}}}", Map.of()));
        assertTrue(empty.getMessage().contains("genhash"), empty.getMessage());
        ConfigException notJson = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{" + DSN + "}",
                Map.of("PERSEUS_ADMINSETTINGS_STATSUSERS", "grafana:hash")));
        assertTrue(notJson.getMessage().contains("PERSEUS_ADMINSETTINGS_STATSUSERS"), notJson.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{" + DSN
                + ", \"AdminSettings\": {\"Admins\": {}}}", Map.of()));
        assertTrue(unknown.getMessage().contains("AdminSettings.Admins"), unknown.getMessage());
    }

    @Test
    void theListingForShowConfigHasEveryKeyReadAndNoHash() throws Exception {
        ProxyConfig config = ProxyConfig.load(Path.of("..", "config.example.json"), Map.of());
        Map<String, String[]> listing = config.listing();
        for (String key : new String[] {"ListenAddress", "PoolSettings.MaxOpen", "ClientSettings.MaxClientConnections",
                "ClientSettings.LoginThrottleSourceBurst", "AdminSettings.AdminUsers", "ShutdownSettings.DrainTimeoutSecs"}) {
            assertTrue(listing.containsKey(key), key + " in " + listing.keySet());
        }
        assertEquals("5", listing.get("PoolSettings.MaxOpen")[0]);
        ProxyConfig withUsers = ProxyConfig.parse("{" + DSN + ", \"AdminSettings\": {\"AdminUsers\": {\"ops\":"
                + " \"secret-hash\"}}}", Map.of());
        assertEquals("ops", withUsers.listing().get("AdminSettings.AdminUsers")[0]);
    }

    @Test
    void connectionLimitsAndThrottleKeys() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{" + DSN + ", \"ClientSettings\": {\"MaxClientConnections\": 100,"
                + " \"MaxClientConnectionsPerTenant\": 10, \"LoginThrottleSourceBurst\": 0}}", Map.of());
        assertEquals(100, config.client().limits().maxClients());
        assertEquals(10, config.client().limits().maxPerTenant());
        assertEquals(0, config.client().limits().throttle().sourceBurst());
        assertEquals(ClientSettings.DEFAULT_THROTTLE.tenantBurst(), config.client().limits().throttle().tenantBurst());
    }
}
