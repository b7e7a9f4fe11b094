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
        assertEquals(Map.of(), config.credentialSources());
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
                "db1:5432/mm", CredentialSourceSettings.command(List.of("/usr/local/bin/db-creds", "mm"),
                        Duration.ofSeconds(3)),
                "db2/mm", CredentialSourceSettings.command(List.of("vault-wrapper"), Duration.ofSeconds(10))),
                config.credentialSources());
    }

    @Test
    void credentialSourcesOfEveryKindWithDefaults() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN + "}, \"CredentialSources\": {"
                + "\"db1:5432/mm\": {\"Kind\": \"command\", \"Command\": [\"creds\"]},"
                + "\"db2/mm\": {\"Kind\": \"secrets-manager\", \"SecretId\": \"prod/mm\"},"
                + "\"db3/mm\": {\"Kind\": \"secrets-manager\", \"SecretId\": \"prod/mm\", \"VersionStage\":"
                + " \"AWSPENDING\", \"RefreshSecs\": 5},"
                + "\"db4.rds.amazonaws.com/mm\": {\"kind\": \"rds-iam\", \"User\": \"iam_user\", \"Region\": \"eu-west-1\"}},"
                + "\"CredentialCommands\": {\"db5/mm\": {\"Command\": [\"old\"]}},"
                + "\"ServerTLSSettings\": {\"SSLMode\": \"require\"}}", Map.of()); // rds-iam needs backend TLS
        assertEquals(Map.of(
                "db1:5432/mm", CredentialSourceSettings.command(List.of("creds"), Duration.ofSeconds(10)),
                "db2/mm", CredentialSourceSettings.secretsManager("prod/mm", "AWSCURRENT", Duration.ofSeconds(60)),
                "db3/mm", CredentialSourceSettings.secretsManager("prod/mm", "AWSPENDING", Duration.ofSeconds(5)),
                "db4.rds.amazonaws.com/mm", CredentialSourceSettings.rdsIam("eu-west-1", "iam_user"),
                "db5/mm", CredentialSourceSettings.command(List.of("old"), Duration.ofSeconds(10))),
                config.credentialSources());
    }

    @Test
    void credentialSourceKeysHaveEnvironmentOverrides() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN + "}, \"CredentialSources\": {"
                + "\"db2.internal:5432/mm\": {\"Kind\": \"secrets-manager\", \"SecretId\": \"prod/mm\"}}}",
                Map.of("PERSEUS_CREDENTIALSOURCES_DB2_INTERNAL_5432_MM_SECRETID", "other/mm",
                        "PERSEUS_CREDENTIALSOURCES_DB2_INTERNAL_5432_MM_REFRESHSECS", "7"));
        assertEquals(CredentialSourceSettings.secretsManager("other/mm", "AWSCURRENT", Duration.ofSeconds(7)),
                config.credentialSources().get("db2.internal:5432/mm"));
        config = ProxyConfig.parse("{\"AuthDBSettings\": {" + DSN + "}, \"CredentialCommands\": {"
                + "\"db1/mm\": {\"Command\": [\"a\"]}}}",
                Map.of("PERSEUS_CREDENTIALCOMMANDS_DB1_MM_COMMAND", "[\"b\", \"c\"]"));
        assertEquals(List.of("b", "c"), config.credentialSources().get("db1/mm").command());
    }

    @Test
    void badCredentialSourcesSayWhatToWrite() {
        for (String[] bad : new String[][] {
                {"{\"Kind\": \"vault\"}", "command, secrets-manager, rds-iam"},
                {"{\"Kind\": \"secrets-manager\"}", "SecretId is required"},
                {"{\"Kind\": \"rds-iam\"}", "User is required"},
                {"{\"Kind\": \"rds-iam\", \"User\": \"u\", \"SecretId\": \"x\"}", "does not apply to Kind rds-iam"},
                {"{\"Kind\": \"command\", \"Commnd\": [\"x\"]}", "unknown key"}}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{\"AuthDBSettings\": {"
                    + DSN + "}, \"CredentialSources\": {\"db1/mm\": " + bad[0] + "}}", Map.of()));
            assertTrue(e.getMessage().contains(bad[1]), e.getMessage());
        }
        ConfigException twice = assertThrows(ConfigException.class, () -> ProxyConfig.parse("{\"AuthDBSettings\": {"
                + DSN + "}, \"CredentialSources\": {\"db1/mm\": {\"Kind\": \"command\", \"Command\": [\"x\"]}},"
                + " \"CredentialCommands\": {\"db1/mm\": {\"Command\": [\"x\"]}}}", Map.of()));
        assertTrue(twice.getMessage().contains("keep one"), twice.getMessage());
    }

    @Test
    void rdsIamNeedsBackendTls() throws Exception {
        Map<String, CredentialSourceSettings> rds = Map.of("db/mm", CredentialSourceSettings.rdsIam("", "u"));
        ProxyConfig.requireBackendTlsForRdsIam(rds, "require");
        ProxyConfig.requireBackendTlsForRdsIam(rds, "verify-full");
        ProxyConfig.requireBackendTlsForRdsIam(Map.of("db/mm", CredentialSourceSettings.command(List.of("x"),
                Duration.ofSeconds(1))), "disable");
        for (String weak : List.of("disable", "allow", "prefer")) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> ProxyConfig.requireBackendTlsForRdsIam(rds, weak));
            assertTrue(e.getMessage().contains("ServerTLSSettings.SSLMode"), e.getMessage());
        }
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
