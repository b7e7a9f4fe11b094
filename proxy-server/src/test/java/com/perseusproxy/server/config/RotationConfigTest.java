package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The configuration keys of credential rotation: RefreshIntervalSecs, NotifyChannel, CredentialCommands. */
class RotationConfigTest {

    static final String DSN = "\"AuthDBDSN\": \"postgres://u:p@h/db\"";

    @Test
    void defaultsRefreshEvery30sAndListenOnPerseusAuthChanged() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN + "}}", Map.of());
        assertEquals(RotationSettings.defaults(), config.rotation());
        assertEquals(Map.of(), config.credentialCommands());
        assertEquals(RotationSettings.defaults(),
                ProxyConfig.load(Path.of("..", "config.example.json"), Map.of()).rotation());
    }

    @Test
    void refreshAndChannelCanBeSetOrTurnedOff() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN
                + ", \"RefreshIntervalSecs\": 0, \"NotifyChannel\": \"\"}}", Map.of());
        assertEquals(new RotationSettings(Duration.ZERO, ""), config.rotation());
        config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN + "}}",
                Map.of("PERSEUS_AUTHDBSETTINGS_REFRESHINTERVALSECS", "5"));
        assertEquals(Duration.ofSeconds(5), config.rotation().refreshInterval());
    }

    @Test
    void aChannelThatIsNotAPlainIdentifierIsRefused() {
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{\"AuthDBSettings\": {"
                + DSN + ", \"NotifyChannel\": \"x; drop table perseus_auth\"}}", Map.of()));
        assertTrue(e.getMessage().contains("NotifyChannel"), e.getMessage());
    }

    @Test
    void credentialCommandsAreProgramAndArgumentsWithATimeout() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN + "}, \"CredentialCommands\": {"
                + "\"db1:5432/mm\": {\"Command\": [\"/usr/local/bin/db-creds\", \"mm\"], \"TimeoutSecs\": 3},"
                + "\"db2/mm\": {\"command\": [\"vault-wrapper\"]}}}", Map.of());
        assertEquals(Map.of(
                "db1:5432/mm", new CredentialCommandSettings(List.of("/usr/local/bin/db-creds", "mm"),
                        Duration.ofSeconds(3)),
                "db2/mm", new CredentialCommandSettings(List.of("vault-wrapper"), Duration.ofSeconds(10))),
                config.credentialCommands());
    }

    @Test
    void badCredentialCommandsSayWhatToWrite() {
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{\"AuthDBSettings\": {"
                + DSN + "}, \"CredentialCommands\": {\"db1/mm\": {\"Command\": \"vault read x\"}}}", Map.of()));
        assertTrue(e.getMessage().contains("non-empty array of strings"), e.getMessage());
        e = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{\"AuthDBSettings\": {"
                + DSN + "}, \"CredentialCommands\": {\"db1\": {\"Command\": [\"x\"]}}}", Map.of()));
        assertTrue(e.getMessage().contains("dest_host/dest_db"), e.getMessage());
    }
}
