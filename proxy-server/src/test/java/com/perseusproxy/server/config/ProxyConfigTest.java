package com.perseusproxy.server.config;

import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.pool.PoolSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProxyConfigTest {

    static final String MINIMAL = "{\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u:p@h/db\"}}";

    @TempDir
    Path dir;

    @Test
    void exampleConfigLoadsWithDocumentedDefaults() throws Exception {
        ProxyConfig config = ProxyConfig.load(Path.of("..", "config.example.json"), Map.of());
        assertEquals(new ListenAddress(null, 5433), config.listenAddress());
        assertEquals(new ListenAddress(null, 5000), config.metricsAddress());
        assertEquals(2, config.authDb().queryTimeoutSecs());
        assertEquals(4, config.authDb().dsn().pool().maxConns());
        assertEquals(2, config.authDb().dsn().pool().minConns());
        assertEquals("us-east-1", config.aws().region());
        assertFalse(config.aws().kmsConfigured());
        assertEquals(PoolSettings.defaults(), config.toPoolSettings());
        // One entry, for the RDS backend whose rds-iam credential source needs TLS: pool settings as the top level.
        assertEquals(Map.of("mydb.abc123xyz.us-east-1.rds.amazonaws.com:5432/mattermost", PoolSettings.defaults()),
                config.overrideSettings());
        assertEquals(new LogSettings("INFO", true), config.log());
        assertFalse(config.localKey().configured());
        assertEquals(new ClientSettings(Duration.ofSeconds(60), 0, 64 * 1024 * 1024), config.client());
        assertFalse(config.toString().contains("change-me"), config.toString());
    }

    @Test
    void perseusSampleWithoutNewSectionsGetsDefaults() throws Exception {
        ProxyConfig config = ProxyConfig.parse(MINIMAL, Map.of());
        assertEquals(PoolSettings.defaults(), config.toPoolSettings());
        assertEquals(Duration.ofSeconds(120), config.toPoolSettings().queryWaitTimeout());
        assertEquals(new ClientSettings(Duration.ofSeconds(60), 0, 64 * 1024 * 1024), config.client());
        assertTrue(config.client().effectiveMaxConcurrentHashChecks() >= 1);
    }

    @Test
    void unknownKeysNameTheirPathAndTheAllowedKeys() {
        ConfigException top = assertThrows(ConfigException.class,
                () -> ProxyConfig.parse("{\"ListenAdress\": \":1\"}", Map.of()));
        assertTrue(top.getMessage().contains("unknown key ListenAdress")
                && top.getMessage().contains("ListenAddress, MetricsAddress"), top.getMessage());

        ConfigException nested = assertThrows(ConfigException.class, () -> ProxyConfig.parse(
                "{\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u@h/db\"}, \"PoolSettings\": {\"MaxOpn\": 3}}",
                Map.of()));
        assertTrue(nested.getMessage().contains("unknown key PoolSettings.MaxOpn")
                && nested.getMessage().contains("MaxIdle, MaxOpen,"), nested.getMessage());

        ConfigException override = assertThrows(ConfigException.class, () -> ProxyConfig.parse(
                "{\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u@h/db\"},"
                        + " \"OverrideSettings\": {\"db1/mm\": {\"Bogus\": 1}}}", Map.of()));
        assertTrue(override.getMessage().contains("OverrideSettings[\"db1/mm\"].Bogus"), override.getMessage());
    }

    @Test
    void keysMatchCaseInsensitivelyLikeGo() throws Exception {
        ProxyConfig config = ProxyConfig.parse("{\"listenaddress\": \"127.0.0.1:6432\", "
                + "\"authdbsettings\": {\"authdbdsn\": \"postgres://u@h/db\"}}", Map.of());
        assertEquals(new ListenAddress("127.0.0.1", 6432), config.listenAddress());
        ConfigException twice = assertThrows(ConfigException.class, () -> ProxyConfig.parse(
                "{\"ListenAddress\": \":1\", \"listenaddress\": \":2\"," + MINIMAL.substring(1), Map.of()));
        assertTrue(twice.getMessage().contains("appears twice"), twice.getMessage());
    }

    @Test
    void invalidValuesNameTheKeyAndWhatIsAllowed() {
        assertInvalid("{\"PoolSettings\": {\"MaxOpen\": 0}}", "PoolSettings.MaxOpen must be a whole number from 1");
        assertInvalid("{\"PoolSettings\": {\"MaxIdle\": -1}}", "PoolSettings.MaxIdle must be a whole number from 0");
        assertInvalid("{\"PoolSettings\": {\"MaxOpen\": \"five\"}}", "PoolSettings.MaxOpen must be a whole number");
        assertInvalid("{\"PoolSettings\": {\"MaxOpen\": 2.5}}", "got a number with a fraction");
        assertInvalid("{\"PoolSettings\": {\"ConnCreateTimeoutSecs\": 0}}", "ConnCreateTimeoutSecs");
        assertInvalid("{\"ClientSettings\": {\"MaxMessageBytes\": 100}}", "ClientSettings.MaxMessageBytes");
        assertInvalid("{\"ClientSettings\": {\"VerifiedLoginCacheSecs\": -1}}",
                "ClientSettings.VerifiedLoginCacheSecs must be a whole number from 0 to 3600 (seconds; 0 = off)");
        assertInvalid("{\"ClientSettings\": {\"VerifiedLoginCacheSize\": 0}}",
                "ClientSettings.VerifiedLoginCacheSize must be a whole number from 1");
        assertInvalid("{\"ClientSettings\": {\"UnknownUserAuth\": \"md5\"}}",
                "ClientSettings.UnknownUserAuth must be \"cleartext\" or \"scram-sha-256\"");
        assertInvalid("{\"LogSettings\": {\"Level\": \"LOUD\"}}", "LogSettings.Level must be one of");
        assertInvalid("{\"LogSettings\": {\"Json\": \"yes\"}}", "LogSettings.Json must be true or false");
        assertInvalid("{\"ListenAddress\": \"5433\"}", "ListenAddress \"5433\" is not a listen address");
        assertInvalid("{\"PoolSettings\": [1]}", "PoolSettings must be a JSON object");
        assertInvalid("{\"AuthDBSettings\": {\"AuthQueryTimeoutSecs\": 0, \"AuthDBDSN\": \"postgres://u@h/d\"}}",
                "AuthDBSettings.AuthQueryTimeoutSecs");
        ConfigException missingDsn = assertThrows(ConfigException.class,
                () -> ProxyConfig.parse("{}", Map.of()));
        assertTrue(missingDsn.getMessage().contains("AuthDBSettings.AuthDBDSN is required"));
    }

    @Test
    void maxIdleAboveMaxOpenIsCappedAtMaxOpen() throws Exception {
        ProxyConfig config = ProxyConfig.parse(with("\"PoolSettings\": {\"MaxIdle\": 9, \"MaxOpen\": 4}"),
                Map.of());
        assertEquals(4, config.toPoolSettings().maxIdle());
    }

    @Test
    void maxPreparedStatementsDefaultsTo200AndZeroTurnsTrackingOff() throws Exception {
        assertEquals(200, ProxyConfig.parse(MINIMAL, Map.of()).toPoolSettings().maxPreparedStatements());
        ProxyConfig config = ProxyConfig.parse(with("\"PoolSettings\": {\"MaxPreparedStatements\": 0},"
                + "\"OverrideSettings\": {\"db1/mm\": {\"MaxOpen\": 20}}"), Map.of());
        assertEquals(0, config.toPoolSettings().maxPreparedStatements());
        assertEquals(0, config.overrideSettings().get("db1/mm").maxPreparedStatements());
        assertEquals(50, ProxyConfig.parse(MINIMAL, Map.of("PERSEUS_POOLSETTINGS_MAXPREPAREDSTATEMENTS", "50"))
                .toPoolSettings().maxPreparedStatements());
        ConfigException negative = assertThrows(ConfigException.class, () -> ProxyConfig.parse(
                with("\"PoolSettings\": {\"MaxPreparedStatements\": -1}"), Map.of()));
        assertTrue(negative.getMessage().contains("PoolSettings.MaxPreparedStatements"), negative.getMessage());
    }

    @Test
    void overridesInheritUnsetKeysFromPoolSettings() throws Exception {
        ProxyConfig config = ProxyConfig.parse(with("\"PoolSettings\": {\"MaxOpen\": 8, \"MaxLifetimeSecs\": 60},"
                + "\"OverrideSettings\": {\"db1:5432/mm\": {\"MaxOpen\": 20, \"MaxIdle\": 10}}"), Map.of());
        PoolSettings override = config.overrideSettings().get("db1:5432/mm");
        assertEquals(20, override.maxOpen());
        assertEquals(10, override.maxIdle());
        assertEquals(Duration.ofSeconds(60), override.maxLifetime());
        assertEquals(8, config.toPoolSettings().maxOpen());
    }

    @Test
    void environmentOverridesTheFileLikeEnvconfig() throws Exception {
        ProxyConfig config = ProxyConfig.parse(MINIMAL, Map.of(
                "PERSEUS_LISTENADDRESS", ":7000",
                "PERSEUS_AWSSETTINGS_REGION", "eu-west-1",
                "PERSEUS_POOLSETTINGS_MAXOPEN", "9",
                "PERSEUS_LOGSETTINGS_JSON", "false",
                "PERSEUS_AUTHDBSETTINGS_AUTHDBDSN", "postgres://envuser:envpass@envhost:6000/envdb"));
        assertEquals(7000, config.listenAddress().port());
        assertEquals("eu-west-1", config.aws().region());
        assertEquals(9, config.toPoolSettings().maxOpen());
        assertFalse(config.log().json());
        assertEquals("envuser", config.authDb().dsn().user());

        ConfigException bad = assertThrows(ConfigException.class,
                () -> ProxyConfig.parse(MINIMAL, Map.of("PERSEUS_POOLSETTINGS_MAXIDLE", "lots")));
        assertTrue(bad.getMessage().contains("PERSEUS_POOLSETTINGS_MAXIDLE")
                && bad.getMessage().contains("PoolSettings.MaxIdle"), bad.getMessage());
    }

    /** Every key of every section, by its envconfig name; the test fails when a key is added without a case here. */
    @Test
    void everyNestedKeyCanBeOverriddenFromTheEnvironment() throws Exception {
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("PERSEUS_LISTENADDRESS", "127.0.0.1:7001");
        env.put("PERSEUS_METRICSADDRESS", "127.0.0.1:7002");
        env.put("PERSEUS_AUTHDBSETTINGS_AUTHDBDSN", "postgres://envuser:envpass@envhost:6000/envdb");
        env.put("PERSEUS_AUTHDBSETTINGS_AUTHQUERYTIMEOUTSECS", "7");
        env.put("PERSEUS_AUTHDBSETTINGS_REFRESHINTERVALSECS", "8");
        env.put("PERSEUS_AUTHDBSETTINGS_NOTIFYCHANNEL", "env_channel");
        env.put("PERSEUS_AWSSETTINGS_ACCESSKEYID", "AKIAENV");
        env.put("PERSEUS_AWSSETTINGS_SECRETACCESSKEY", "env-secret");
        env.put("PERSEUS_AWSSETTINGS_REGION", "eu-west-1");
        env.put("PERSEUS_AWSSETTINGS_ENDPOINT", "https://kms.example.internal");
        env.put("PERSEUS_AWSSETTINGS_KMSKEYARN", "arn:aws:kms:eu-west-1:111122223333:key/env");
        env.put("PERSEUS_POOLSETTINGS_MAXIDLE", "4");
        env.put("PERSEUS_POOLSETTINGS_MAXOPEN", "9");
        env.put("PERSEUS_POOLSETTINGS_MAXLIFETIMESECS", "11");
        env.put("PERSEUS_POOLSETTINGS_MAXIDLETIMESECS", "12");
        env.put("PERSEUS_POOLSETTINGS_CONNCREATETIMEOUTSECS", "13");
        env.put("PERSEUS_POOLSETTINGS_CONNCLOSETIMEOUTSECS", "14");
        env.put("PERSEUS_POOLSETTINGS_SCHEMAEXECTIMEOUTSECS", "15");
        env.put("PERSEUS_POOLSETTINGS_QUERYWAITTIMEOUTSECS", "16");
        env.put("PERSEUS_POOLSETTINGS_MAXPREPAREDSTATEMENTS", "18");
        env.put("PERSEUS_POOLSETTINGS_SERVERCHECKDELAYSECS", "20");
        env.put("PERSEUS_POOLSETTINGS_GLOBALMAXOPEN", "25");
        env.put("PERSEUS_POOLSETTINGS_TENANTLINGERMICROS", "500");
        env.put("PERSEUS_LISTENREUSEPORT", "false");
        env.put("PERSEUS_WORKERTHREADS", "3");
        env.put("PERSEUS_PEERSETTINGS_ID", "pod-7");
        env.put("PERSEUS_PEERSETTINGS_PEERS", "10.0.0.1:5433,10.0.0.2:5433");
        env.put("PERSEUS_PEERSETTINGS_HEARTBEATSECS", "9");
        env.put("PERSEUS_LOGSETTINGS_LEVEL", "debug");
        env.put("PERSEUS_LOGSETTINGS_JSON", "f");
        env.put("PERSEUS_LOCALKEYSETTINGS_KEYFILE", "/env/local.key");
        env.put("PERSEUS_CLIENTSETTINGS_LOGINTIMEOUTSECS", "17");
        env.put("PERSEUS_CLIENTSETTINGS_MAXCONCURRENTHASHCHECKS", "3");
        env.put("PERSEUS_CLIENTSETTINGS_MAXMESSAGEBYTES", "65536");
        env.put("PERSEUS_CLIENTSETTINGS_VERIFIEDLOGINCACHESECS", "0");
        env.put("PERSEUS_CLIENTSETTINGS_VERIFIEDLOGINCACHESIZE", "19");
        env.put("PERSEUS_CLIENTSETTINGS_IDLEINTRANSACTIONTIMEOUTSECS", "21");
        env.put("PERSEUS_CLIENTSETTINGS_CLIENTIDLETIMEOUTSECS", "22");
        env.put("PERSEUS_CLIENTSETTINGS_QUERYTIMEOUTSECS", "23");
        env.put("PERSEUS_CLIENTSETTINGS_MAXCLIENTCONNECTIONS", "25");
        env.put("PERSEUS_CLIENTSETTINGS_MAXCLIENTCONNECTIONSPERTENANT", "26");
        env.put("PERSEUS_CLIENTSETTINGS_LOGINTHROTTLESOURCEBURST", "27");
        env.put("PERSEUS_CLIENTSETTINGS_LOGINTHROTTLETENANTBURST", "28");
        env.put("PERSEUS_CLIENTSETTINGS_LOGINTHROTTLEREFILLMILLIS", "29");
        env.put("PERSEUS_CLIENTSETTINGS_LOGINTHROTTLEDELAYMILLIS", "30");
        env.put("PERSEUS_CLIENTSETTINGS_UNKNOWNUSERAUTH", "SCRAM-SHA-256");
        env.put("PERSEUS_SHUTDOWNSETTINGS_DRAINTIMEOUTSECS", "24");
        env.put("PERSEUS_SHUTDOWNSETTINGS_READINESSGRACESECS", "6");
        env.put("PERSEUS_WATCHCONFIGFILE", "true");
        env.put("PERSEUS_ADMINSETTINGS_ADMINUSERS", "{\"ops\": \"hash-a\"}");
        env.put("PERSEUS_ADMINSETTINGS_STATSUSERS", "{\"grafana\": \"hash-b\"}");
        env.put("PERSEUS_CLIENTSETTINGS_TRACKEXTRAPARAMETERS", "statement_timeout, GEQO");
        env.put("PERSEUS_METRICSSETTINGS_PERTENANT", "true");

        java.util.Set<String> allKeys = new java.util.TreeSet<>();
        for (String top : ProxyConfig.TOP_KEYS) {
            // Sections are covered key by key below; map entries (CredentialSources) in RotationConfigTest.
            if (!top.endsWith("Settings") && !top.startsWith("Credential")) {
                allKeys.add("PERSEUS_" + top.toUpperCase(java.util.Locale.ROOT));
            }
        }
        Map<String, java.util.List<String>> sections = Map.of("AUTHDBSETTINGS", ProxyConfig.AUTH_DB_KEYS,
                "AWSSETTINGS", ProxyConfig.AWS_KEYS, "POOLSETTINGS", PoolSettingsSection.KEYS,
                "LOGSETTINGS", ProxyConfig.LOG_KEYS, "LOCALKEYSETTINGS", ProxyConfig.LOCAL_KEY_KEYS,
                "CLIENTSETTINGS", ProxyConfig.CLIENT_KEYS, "SHUTDOWNSETTINGS", ProxyConfig.SHUTDOWN_KEYS,
                "METRICSSETTINGS", ProxyConfig.METRICS_KEYS, "ADMINSETTINGS", AdminSettings.KEYS,
                "PEERSETTINGS", ProxyConfig.PEER_KEYS);
        sections.forEach((section, keys) -> keys.forEach(key ->
                allKeys.add("PERSEUS_" + section + "_" + key.toUpperCase(java.util.Locale.ROOT))));
        assertEquals(allKeys, new java.util.TreeSet<>(env.keySet()), "every key has an environment case");

        ProxyConfig config = ProxyConfig.parse(with("\"PoolSettings\": {\"MaxOpen\": 2},"
                + "\"AWSSettings\": {\"Region\": \"us-east-1\"}, \"ClientSettings\": {}"), env);
        assertEquals(new ListenAddress("127.0.0.1", 7001), config.listenAddress());
        assertEquals(new ListenAddress("127.0.0.1", 7002), config.metricsAddress());
        assertEquals("envhost:6000", config.authDb().dsn().hosts().get(0));
        assertEquals(7, config.authDb().queryTimeoutSecs());
        assertEquals(new RotationSettings(Duration.ofSeconds(8), "env_channel"), config.rotation());
        assertEquals(new AwsSettings("AKIAENV", "env-secret", "eu-west-1", "https://kms.example.internal",
                "arn:aws:kms:eu-west-1:111122223333:key/env"), config.aws());
        assertEquals(new PoolSettings(4, 9, Duration.ofSeconds(11), Duration.ofSeconds(12), Duration.ofSeconds(13),
                Duration.ofSeconds(14), Duration.ofSeconds(15), Duration.ofSeconds(16), 18, Duration.ofSeconds(20), 25,
                Duration.ofNanos(500_000)), config.toPoolSettings());
        assertEquals(new LogSettings("DEBUG", false), config.log());
        assertEquals(Path.of("/env/local.key"), config.localKey().keyFile());
        assertEquals(new ClientSettings(Duration.ofSeconds(17), 3, 65536, Duration.ZERO, 19, Duration.ofSeconds(21),
                Duration.ofSeconds(22), Duration.ofSeconds(23),
                new TrackedSettings(java.util.List.of("statement_timeout", "geqo")),
                new com.perseusproxy.core.session.ClientLimits.Settings(
                        25, 26, new com.perseusproxy.core.auth.LoginThrottle.Settings(27, 28, 29, 30)),
                com.perseusproxy.core.auth.UnknownUserAuth.SCRAM_SHA_256), config.client());
        assertEquals(Duration.ofSeconds(24), config.shutdown().drainTimeout());
        assertEquals(Duration.ofSeconds(6), config.shutdown().readinessGrace());
        assertTrue(config.watchConfigFile());
        assertFalse(config.listenReusePort());
        assertEquals(3, config.workerThreads());
        assertEquals(new PeerSettings("pod-7", java.util.List.of("10.0.0.1:5433", "10.0.0.2:5433"), 9),
                config.peers());
        assertTrue(config.metrics().perTenant());
    }

    @Test
    void perTenantMetricsAreOffByDefault() throws Exception {
        assertFalse(ProxyConfig.parse(MINIMAL, Map.of()).metrics().perTenant());
        assertTrue(ProxyConfig.parse(with("\"MetricsSettings\": {\"PerTenant\": true}"), Map.of()).metrics()
                .perTenant());
        assertInvalid("{\"MetricsSettings\": {\"PerTenants\": true}}", "PerTenants");
    }

    @Test
    void trackExtraParametersIsAListOfParameterNames() throws Exception {
        assertEquals(TrackedSettings.DEFAULT, ProxyConfig.parse(MINIMAL, Map.of()).client().trackExtraParameters());
        assertEquals(java.util.List.of("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
                "work_mem"), TrackedSettings.DEFAULT.extra());
        assertEquals(java.util.List.of("work_mem", "myext.mode"), ProxyConfig.parse(with(
                "\"ClientSettings\": {\"TrackExtraParameters\": [\"Work_Mem\", \"myext.mode\", \"TimeZone\"]}"),
                Map.of()).client().trackExtraParameters().extra(), "lower case; always-tracked ones need no entry");
        assertEquals(java.util.List.of(), ProxyConfig.parse(with(
                "\"ClientSettings\": {\"TrackExtraParameters\": []}"), Map.of()).client().trackExtraParameters()
                .extra());
        assertEquals(java.util.List.of(), ProxyConfig.parse(MINIMAL,
                Map.of("PERSEUS_CLIENTSETTINGS_TRACKEXTRAPARAMETERS", "")).client().trackExtraParameters().extra());
        assertInvalid("{\"ClientSettings\": {\"TrackExtraParameters\": \"statement_timeout\"}}",
                "ClientSettings.TrackExtraParameters must be a JSON array of strings, got a string");
        assertInvalid("{\"ClientSettings\": {\"TrackExtraParameters\": [5]}}",
                "ClientSettings.TrackExtraParameters must be a JSON array of strings");
        assertInvalid("{\"ClientSettings\": {\"TrackExtraParameters\": [\"statement timeout\"]}}",
                "ClientSettings.TrackExtraParameters: \"statement timeout\" is not a PostgreSQL parameter name");
        assertInvalid("{\"ClientSettings\": {\"TrackExtraParameters\": [\"search_path\"]}}",
                "ClientSettings.TrackExtraParameters: search_path cannot be tracked");
        assertInvalid("{\"ClientSettings\": {\"TrackExtraParameters\": [\"ROLE\"]}}",
                "role cannot be tracked");
    }

    @Test
    void anEmptyOrAbsentMetricsAddressTurnsMetricsOff() throws Exception {
        assertFalse(ProxyConfig.parse(MINIMAL, Map.of()).metricsEnabled());
        assertFalse(ProxyConfig.parse(with("\"MetricsAddress\": \"\""), Map.of()).metricsEnabled());
        assertFalse(ProxyConfig.parse(with("\"MetricsAddress\": \":5000\""), Map.of("PERSEUS_METRICSADDRESS", ""))
                .metricsEnabled());
        ProxyConfig ephemeral = ProxyConfig.parse(with("\"MetricsAddress\": \"127.0.0.1:0\""), Map.of());
        assertTrue(ephemeral.metricsEnabled());
        assertEquals(0, ephemeral.metricsAddress().port());
        assertInvalid("{\"MetricsAddress\": \"5000\"}", "MetricsAddress \"5000\" is not a listen address");
    }

    @Test
    void awsSettingsAreCheckedWhenKmsIsOn() throws Exception {
        assertInvalid("{\"AWSSettings\": {\"KMSKeyARN\": \"arn:aws:kms:us-east-1:1:key/k\", "
                + "\"AccessKeyId\": \"AKIA\"}}", "AWSSettings: only one of AccessKeyId and SecretAccessKey is set");
        assertInvalid("{\"AWSSettings\": {\"KMSKeyArn2\": \"x\"}}", "unknown key AWSSettings.KMSKeyArn2");
        assertInvalid("{\"AWSSettings\": {\"KMSKeyARN\": \"arn:aws:kms:us-east-1:1:key/k\", \"Endpoint\": "
                + "\"http://\"}}", "AWSSettings: the KMS endpoint \"http://\" is not a URL");
        // Without a key ARN, KMS is off and half-set credentials are harmless (Perseus's sample has them blank).
        assertFalse(ProxyConfig.parse(with("\"AWSSettings\": {\"AccessKeyId\": \"AKIA\"}"), Map.of()).aws()
                .kmsConfigured());
    }

    @Test
    void brokenJsonGivesThePlaceButNotTheText() {
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.parse(
                "{\n \"AuthDBSettings\": {\"AuthDBDSN\": postgres://u:hunter2@h/db}\n}", Map.of()));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        assertThrows(ConfigException.class, () -> ProxyConfig.parse("", Map.of()));
    }

    @Test
    void loadNamesTheFile() throws Exception {
        Path file = dir.resolve("perseus.json");
        Files.writeString(file, "{\"Nope\": 1}");
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.load(file, Map.of()));
        assertTrue(e.getMessage().startsWith("config file " + file), e.getMessage());
        ConfigException missing = assertThrows(ConfigException.class,
                () -> ProxyConfig.load(dir.resolve("absent.json"), Map.of()));
        assertTrue(missing.getMessage().contains("-config"), missing.getMessage());
    }

    @Test
    void localKeyFileAndSecretsAreMasked() throws Exception {
        ProxyConfig config = ProxyConfig.parse(with("\"LocalKeySettings\": {\"KeyFile\": \"/etc/perseus/local.key\"},"
                + "\"AWSSettings\": {\"SecretAccessKey\": \"aws-secret\"}"), Map.of());
        assertEquals(Path.of("/etc/perseus/local.key"), config.localKey().keyFile());
        assertFalse(config.toString().contains("aws-secret"), config.toString());
        assertNull(ProxyConfig.parse(MINIMAL, Map.of()).localKey().keyFile());
    }

    private static String with(String sections) {
        return "{\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u:p@h/db\"}, " + sections + "}";
    }

    private static void assertInvalid(String json, String expected) {
        String full = json.contains("AuthDBSettings") ? json
                : "{\"AuthDBSettings\": {\"AuthDBDSN\": \"postgres://u@h/db\"}, " + json.substring(1);
        ConfigException e = assertThrows(ConfigException.class, () -> ProxyConfig.parse(full, Map.of()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void workerThreadsDefaultsToOneLoopAndIsBounded() throws Exception {
        ProxyConfig defaults = ProxyConfig.parse(with("\"LogSettings\": {}"), Map.of());
        assertEquals(0, defaults.workerThreads());
        assertEquals(com.perseusproxy.server.config.WorkerThreads.DEFAULT,
                com.perseusproxy.server.config.WorkerThreads.resolve(defaults.workerThreads()));
        assertEquals(4, ProxyConfig.parse(with("\"WorkerThreads\": 4"), Map.of()).workerThreads());
        ConfigException tooMany = assertThrows(ConfigException.class,
                () -> ProxyConfig.parse(with("\"WorkerThreads\": 1000"), Map.of()));
        assertTrue(tooMany.getMessage().contains("WorkerThreads"), tooMany.getMessage());
        assertThrows(ConfigException.class, () -> ProxyConfig.parse(with("\"LogSettings\": {}"),
                Map.of("PERSEUS_WORKERTHREADS", "-1")));
    }
}
