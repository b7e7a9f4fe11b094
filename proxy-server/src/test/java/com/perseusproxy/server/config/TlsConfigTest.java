package com.perseusproxy.server.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.tls.ClientTlsMode;
import com.perseusproxy.core.tls.ServerTlsMode;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code ClientTLSSettings}, {@code ServerTLSSettings} and their place in {@code OverrideSettings}. */
class TlsConfigTest {

    private static final String DSN = "\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u@h/db\"}";

    private static ProxyConfig parse(String sections, Map<String, String> env) throws ConfigException {
        return ProxyConfig.parse("{" + DSN + (sections.isEmpty() ? "" : ", " + sections) + "}", env);
    }

    private static void assertInvalid(String sections, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(sections, Map.of()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void defaultsKeepClientsAsPerseusAndPreferTlsToBackendsAsLibpq() throws Exception {
        TlsSettings tls = parse("", Map.of()).tls();
        assertEquals(ClientTlsSettings.DISABLED, tls.client());
        assertEquals(new ServerTlsSettings(ServerTlsMode.PREFER, ""), tls.server());
        assertEquals(Map.of(), tls.serverOverrides());
    }

    @Test
    void exampleConfigHasTheDefaults() throws Exception {
        TlsSettings tls = ProxyConfig.load(Path.of("..", "config.example.json"), Map.of()).tls();
        assertEquals(TlsSettings.DEFAULTS.client(), tls.client());
        assertEquals(TlsSettings.DEFAULTS.server(), tls.server());
        // The example's RDS backend (an rds-iam credential source, which needs TLS) verifies the RDS certificate.
        assertEquals(Map.of("mydb.abc123xyz.us-east-1.rds.amazonaws.com:5432/mattermost",
                new ServerTlsSettings(ServerTlsMode.VERIFY_FULL, "/etc/perseus/rds-global-bundle.pem")),
                tls.serverOverrides());
    }

    @Test
    void everyKeyIsRead() throws Exception {
        TlsSettings tls = parse("\"ClientTLSSettings\": {\"SSLMode\": \"Require\", \"CertFile\": \"/c.crt\","
                + " \"KeyFile\": \"/c.key\", \"CAFile\": \"/ca.crt\"},"
                + " \"ServerTLSSettings\": {\"SSLMode\": \"verify-ca\", \"RootCertFile\": \"/rds.pem\"}", Map.of())
                .tls();
        assertEquals(new ClientTlsSettings(ClientTlsMode.REQUIRE, Path.of("/c.crt"), Path.of("/c.key"),
                Path.of("/ca.crt")), tls.client());
        assertEquals(new ServerTlsSettings(ServerTlsMode.VERIFY_CA, "/rds.pem"), tls.server());
    }

    @Test
    void environmentOverridesEveryKey() throws Exception {
        Map<String, String> env = Map.of(
                "PERSEUS_CLIENTTLSSETTINGS_SSLMODE", "prefer",
                "PERSEUS_CLIENTTLSSETTINGS_CERTFILE", "/env.crt",
                "PERSEUS_CLIENTTLSSETTINGS_KEYFILE", "/env.key",
                "PERSEUS_CLIENTTLSSETTINGS_CAFILE", "/env-ca.crt",
                "PERSEUS_SERVERTLSSETTINGS_SSLMODE", "verify-full",
                "PERSEUS_SERVERTLSSETTINGS_ROOTCERTFILE", "system");
        TlsSettings tls = parse("\"ServerTLSSettings\": {\"SSLMode\": \"disable\"}", env).tls();
        assertEquals(new ClientTlsSettings(ClientTlsMode.PREFER, Path.of("/env.crt"), Path.of("/env.key"),
                Path.of("/env-ca.crt")), tls.client());
        assertEquals(new ServerTlsSettings(ServerTlsMode.VERIFY_FULL, "system"), tls.server());
    }

    @Test
    void overrideEntryNamesOnlyWhatDiffersAndKeepsItsPoolKeys() throws Exception {
        ProxyConfig config = parse("\"ServerTLSSettings\": {\"SSLMode\": \"require\", \"RootCertFile\": \"/a.pem\"},"
                + " \"OverrideSettings\": {\"db1:5432/mm\": {\"MaxOpen\": 7,"
                + " \"ServerTLSSettings\": {\"SSLMode\": \"verify-full\"}}, \"db2/mm\": {\"MaxOpen\": 3}}", Map.of());
        assertEquals(Map.of("db1:5432/mm", new ServerTlsSettings(ServerTlsMode.VERIFY_FULL, "/a.pem")),
                config.tls().serverOverrides());
        assertEquals(7, config.overrideSettings().get("db1:5432/mm").maxOpen());
        assertEquals(3, config.overrideSettings().get("db2/mm").maxOpen());
    }

    @Test
    void mistakesAreNamedWithTheirKeyPath() {
        assertInvalid("\"ClientTLSSettings\": {\"SSLMode\": \"verify-full\"}",
                "ClientTLSSettings.SSLMode must be one of disable, allow, prefer, require");
        assertInvalid("\"ClientTLSSettings\": {\"SSLMode\": \"require\", \"CertFile\": \"/c.crt\"}",
                "ClientTLSSettings.SSLMode require needs ClientTLSSettings.CertFile and ClientTLSSettings.KeyFile");
        assertInvalid("\"ServerTLSSettings\": {\"SSLMode\": \"allow\"}",
                "ServerTLSSettings.SSLMode must be one of disable, prefer, require, verify-ca, verify-full");
        assertInvalid("\"ServerTLSSettings\": {\"SSLMode\": \"verify-full\"}",
                "ServerTLSSettings.SSLMode verify-full needs ServerTLSSettings.RootCertFile");
        assertInvalid("\"OverrideSettings\": {\"db/mm\": {\"ServerTLSSettings\": {\"SSLMode\": \"verify-ca\"}}}",
                "OverrideSettings[\"db/mm\"].ServerTLSSettings.SSLMode verify-ca needs");
        assertInvalid("\"OverrideSettings\": {\"db/mm\": {\"ServerTLSSettings\": {\"RootCert\": \"/x\"}}}",
                "unknown key OverrideSettings[\"db/mm\"].ServerTLSSettings.RootCert");
        assertInvalid("\"ClientTLSSettings\": {\"CertFle\": \"/x\"}", "unknown key ClientTLSSettings.CertFle");
    }
}
