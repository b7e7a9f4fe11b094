package com.perseusproxy.server.config;

import com.perseusproxy.core.config.AuthDbDsn;
import com.perseusproxy.core.auth.VerifiedLoginCache;
import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.config.ConfigException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.pool.PoolSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The proxy's configuration: Perseus's JSON config file, read as Perseus reads it (unknown keys are errors, keys
 * match case-insensitively, {@code PERSEUS_<SECTION>_<KEY>} environment variables override the file), plus this
 * product's sections. Every key is documented in {@code docs/CONFIG.md}. {@code metricsAddress} is null when
 * {@code MetricsAddress} is empty or absent (no metrics endpoint).
 */
public record ProxyConfig(ListenAddress listenAddress, ListenAddress metricsAddress, AuthDbSettings authDb,
                          AwsSettings aws, PoolSettings poolSettings, Map<String, PoolSettings> overrideSettings,
                          LogSettings log, LocalKeySettings localKey, ClientSettings client,
                          RotationSettings rotation, Map<String, CredentialSourceSettings> credentialSources,
                          TlsSettings tls, ShutdownSettings shutdown, MetricsSettings metrics, AdminSettings admin,
                          boolean listenReusePort, int workerThreads, PeerSettings peers, boolean watchConfigFile,
                          Map<String, String[]> listing) {

    static final List<String> TOP_KEYS = List.of("ListenAddress", "MetricsAddress", "AuthDBSettings", "AWSSettings",
            "PoolSettings", "OverrideSettings", "LogSettings", "LocalKeySettings", "ClientSettings",
            "CredentialSources", "CredentialCommands", "ClientTLSSettings", "ServerTLSSettings", "ShutdownSettings",
            "MetricsSettings", "AdminSettings", "ListenReusePort", "WorkerThreads", "PeerSettings",
            "WatchConfigFile");
    static final List<String> PEER_KEYS = PeerSettings.KEYS;
    static final List<String> AUTH_DB_KEYS = List.of("AuthDBDSN", "AuthQueryTimeoutSecs", "RefreshIntervalSecs",
            "NotifyChannel");
    static final List<String> AWS_KEYS = List.of("AccessKeyId", "SecretAccessKey", "Region", "Endpoint", "KMSKeyARN");
    static final List<String> LOG_KEYS = List.of("Level", "Json");
    static final List<String> LOCAL_KEY_KEYS = List.of("KeyFile");
    static final List<String> CLIENT_KEYS = List.of("LoginTimeoutSecs", "MaxConcurrentHashChecks", "MaxMessageBytes",
            "VerifiedLoginCacheSecs", "VerifiedLoginCacheSize", "IdleInTransactionTimeoutSecs", "ClientIdleTimeoutSecs",
            "QueryTimeoutSecs", "TrackExtraParameters", "MaxClientConnections", "MaxClientConnectionsPerTenant",
            "LoginThrottleSourceBurst", "LoginThrottleTenantBurst", "LoginThrottleRefillMillis",
            "LoginThrottleDelayMillis", "UnknownUserAuth");
    static final List<String> SHUTDOWN_KEYS = List.of("DrainTimeoutSecs", "ReadinessGraceSecs");
    static final List<String> METRICS_KEYS = List.of("PerTenant");
    static final List<String> LOG_LEVELS = List.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR");

    public static final int DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
    static final int MIN_MESSAGE_BYTES = 8 * 1024;
    /** PostgreSQL's own limit on one message. */
    static final int MAX_MESSAGE_BYTES = 1024 * 1024 * 1024;
    static final int MAX_HASH_CHECKS = 256;
    /** WorkerThreads: more data loops than this would only add context switches. */
    static final int MAX_WORKER_THREADS = 256;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    public ProxyConfig {
        overrideSettings = Map.copyOf(overrideSettings);
        credentialSources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(credentialSources));
        listing = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(listing));
    }

    /** Reads the file and applies {@code PERSEUS_*} overrides from the process environment. */
    public static ProxyConfig load(Path file) throws ConfigException {
        return load(file, System.getenv());
    }

    public static ProxyConfig load(Path file, Map<String, String> env) throws ConfigException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read config file " + file + " (" + e.getClass().getSimpleName()
                    + "): check the path given with -config and the file's permissions", e);
        }
        try {
            return parse(text, env);
        } catch (ConfigException e) {
            throw new ConfigException("config file " + file + ": " + e.getMessage(), e);
        }
    }

    public static ProxyConfig parse(String json, Map<String, String> env) throws ConfigException {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            // Jackson's own message may quote the text near the error, which may be a secret: give the place only.
            String at = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            throw new ConfigException("the config is not valid JSON" + at + ": fix the syntax there (JSON allows no "
                    + "comments and no trailing commas; every key needs double quotes)");
        }
        if (root == null || root.isMissingNode()) {
            throw new ConfigException("the config is empty: it must be a JSON object, see config.example.json");
        }
        JsonSection top = new JsonSection("", root, env, TOP_KEYS);
        PoolSettings pool = PoolSettingsSection.read(top.section("PoolSettings", PoolSettingsSection.KEYS),
                PoolSettings.defaults());
        JsonSection authDbSection = top.section("AuthDBSettings", AUTH_DB_KEYS);
        Map<String, CredentialSourceSettings> sources = CredentialSourceSettings.readAll(top, env);
        TlsSettings tls = TlsSettingsSection.read(top);
        requireBackendTlsForRdsIam(sources, tls);
        AwsSettings aws = aws(top.section("AWSSettings", AWS_KEYS));
        if (sources.values().stream().anyMatch(c -> c.kind() != CredentialSourceSettings.Kind.COMMAND)
                && aws.accessKeyId().isBlank() != aws.secretAccessKey().isBlank()) {
            throw new ConfigException("AWSSettings: only one of AccessKeyId and SecretAccessKey is set (the"
                    + " secrets-manager and rds-iam credential sources use them): set both, or neither for the AWS"
                    + " SDK's default credential chain");
        }
        return new ProxyConfig(
                ListenAddress.parse(top.string("ListenAddress", ":5433"), "ListenAddress"),
                metricsAddress(top.string("MetricsAddress", "")),
                authDb(authDbSection),
                aws,
                pool,
                overrides(top, pool),
                log(top.section("LogSettings", LOG_KEYS)),
                localKey(top.section("LocalKeySettings", LOCAL_KEY_KEYS)),
                client(top.section("ClientSettings", CLIENT_KEYS)),
                RotationSettings.read(authDbSection),
                sources,
                tls,
                ShutdownSettings.read(top.section("ShutdownSettings", SHUTDOWN_KEYS)),
                MetricsSettings.read(top.section("MetricsSettings", METRICS_KEYS)),
                AdminSettings.read(top.section("AdminSettings", AdminSettings.KEYS)),
                top.bool("ListenReusePort", true),
                top.integer("WorkerThreads", 0, 0, MAX_WORKER_THREADS, "data event loops (0 = the default, "
                        + WorkerThreads.DEFAULT + ")"),
                PeerSettings.read(top.section("PeerSettings", PEER_KEYS), env),
                top.bool("WatchConfigFile", false),
                top.listing());
    }

    /** The backend SSL modes that encrypt; RDS accepts IAM tokens over TLS connections only. */
    static final List<String> TLS_SSL_MODES = List.of("require", "verify-ca", "verify-full");

    /**
     * RDS refuses IAM authentication tokens over connections without TLS, and a token is a bearer credential for 15
     * minutes, so an rds-iam source needs backend TLS: the ServerTLSSettings.SSLMode in force for its destination
     * (its OverrideSettings entry's, else the top-level one) must encrypt.
     */
    static void requireBackendTlsForRdsIam(Map<String, CredentialSourceSettings> sources, TlsSettings tls)
            throws ConfigException {
        requireBackendTlsForRdsIam(sources, name -> tls.serverOverrides().getOrDefault(name, tls.server()).mode()
                .configName());
    }

    /** The same check with one backend SSL mode (its config name) for every entry. */
    static void requireBackendTlsForRdsIam(Map<String, CredentialSourceSettings> sources, String serverSslMode)
            throws ConfigException {
        requireBackendTlsForRdsIam(sources, name -> serverSslMode);
    }

    /** @param serverSslModeOf the backend SSL mode (its config name) for a CredentialSources entry name */
    static void requireBackendTlsForRdsIam(Map<String, CredentialSourceSettings> sources,
                                           java.util.function.Function<String, String> serverSslModeOf)
            throws ConfigException {
        for (Map.Entry<String, CredentialSourceSettings> e : sources.entrySet()) {
            String serverSslMode = serverSslModeOf.apply(e.getKey());
            if (e.getValue().kind() == CredentialSourceSettings.Kind.RDS_IAM
                    && !TLS_SSL_MODES.contains(serverSslMode.strip().toLowerCase(Locale.ROOT))) {
                throw new ConfigException("CredentialSources[\"" + e.getKey() + "\"] is of Kind rds-iam, which needs"
                        + " TLS to the backend (RDS refuses IAM tokens without it): set ServerTLSSettings.SSLMode to"
                        + " require, verify-ca or verify-full (it is " + serverSslMode + ")");
            }
        }
    }

    /** The top-level pool settings, for pools without an override. */
    public PoolSettings toPoolSettings() {
        return poolSettings;
    }

    /** Empty (or absent) turns the metrics endpoint off: it never opens a port nobody asked for. */
    private static ListenAddress metricsAddress(String text) throws ConfigException {
        return text.isBlank() ? null : ListenAddress.parse(text, "MetricsAddress");
    }

    /** Whether {@code /metrics} and {@code /health} are served ({@link #metricsAddress()} is null when not). */
    public boolean metricsEnabled() {
        return metricsAddress != null;
    }

    private static AuthDbSettings authDb(JsonSection s) throws ConfigException {
        String dsn = s.string("AuthDBDSN", "");
        if (dsn.isBlank()) {
            throw new ConfigException("AuthDBSettings.AuthDBDSN is required: set it to the database holding "
                    + "perseus_auth, e.g. postgres://user:password@host:5432/db?sslmode=require");
        }
        int timeout = s.integer("AuthQueryTimeoutSecs", 2, 1, 3600, "seconds a tenant lookup may take");
        return new AuthDbSettings(AuthDbDsn.parse(dsn), timeout);
    }

    private static AwsSettings aws(JsonSection s) throws ConfigException {
        AwsSettings aws = new AwsSettings(s.string("AccessKeyId", ""), s.string("SecretAccessKey", ""),
                s.string("Region", ""), s.string("Endpoint", ""), s.string("KMSKeyARN", ""));
        if (aws.kmsConfigured()) {
            try {
                aws.toKmsSettings();
            } catch (IllegalArgumentException e) {
                throw new ConfigException("AWSSettings: " + e.getMessage());
            }
        }
        return aws;
    }

    private static Map<String, PoolSettings> overrides(JsonSection top, PoolSettings base) throws ConfigException {
        Map<String, PoolSettings> overrides = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : top.entries("OverrideSettings").entrySet()) {
            if (entry.getKey().isBlank()) {
                throw new ConfigException("OverrideSettings has an entry with an empty name: name each entry after "
                        + "the backend pool it configures");
            }
            // envconfig cannot address map entries, so overrides come from the file only.
            JsonSection section = new JsonSection("OverrideSettings[\"" + entry.getKey() + "\"]", entry.getValue(),
                    Map.of(), TlsSettingsSection.overrideEntryKeys());
            overrides.put(entry.getKey(), PoolSettingsSection.read(section, base));
        }
        return overrides;
    }

    private static LogSettings log(JsonSection s) throws ConfigException {
        String level = s.string("Level", "INFO").strip().toUpperCase(Locale.ROOT);
        if (level.equals("WARNING")) {
            level = "WARN";
        }
        if (!LOG_LEVELS.contains(level)) {
            throw new ConfigException(s.join("Level") + " must be one of " + String.join(", ", LOG_LEVELS)
                    + ", got \"" + s.string("Level", "") + "\"");
        }
        return new LogSettings(level, s.bool("Json", true));
    }

    private static LocalKeySettings localKey(JsonSection s) throws ConfigException {
        String file = s.string("KeyFile", "");
        return new LocalKeySettings(file.isBlank() ? null : Path.of(file));
    }

    private static ClientSettings client(JsonSection s) throws ConfigException {
        return new ClientSettings(
                Duration.ofSeconds(s.integer("LoginTimeoutSecs", 60, 1, 3600, "seconds from connect to logged in")),
                s.integer("MaxConcurrentHashChecks", 0, 0, MAX_HASH_CHECKS, "0 = one per processor"),
                s.integer("MaxMessageBytes", DEFAULT_MAX_MESSAGE_BYTES, MIN_MESSAGE_BYTES, MAX_MESSAGE_BYTES, "bytes"),
                Duration.ofSeconds(s.integer("VerifiedLoginCacheSecs", 60, 0, 3600, "seconds; 0 = off")),
                s.integer("VerifiedLoginCacheSize", VerifiedLoginCache.DEFAULT_MAX_ENTRIES, 1, 1_000_000,
                        "entries"),
                Duration.ofSeconds(s.integer("IdleInTransactionTimeoutSecs", 0, 0, 86400,
                        "seconds a client may hold a backend inside a transaction without sending anything; 0 = off")),
                Duration.ofSeconds(s.integer("ClientIdleTimeoutSecs", 0, 0, 86400,
                        "seconds a logged-in client may stay idle between transactions; 0 = off")),
                Duration.ofSeconds(s.integer("QueryTimeoutSecs", 0, 0, 86400,
                        "seconds a query may run before it is cancelled; 0 = off")),
                trackedSettings(s),
                new com.perseusproxy.core.session.ClientLimits.Settings(
                        s.integer("MaxClientConnections", 0, 0, 10_000_000, "client connections; 0 = no limit"),
                        s.integer("MaxClientConnectionsPerTenant", 0, 0, 10_000_000,
                                "client connections per tenant; 0 = no limit"),
                        new com.perseusproxy.core.auth.LoginThrottle.Settings(
                                s.integer("LoginThrottleSourceBurst", ClientSettings.DEFAULT_THROTTLE.sourceBurst(), 0,
                                        1_000_000, "failed logins in a row per source address; 0 = off"),
                                s.integer("LoginThrottleTenantBurst", ClientSettings.DEFAULT_THROTTLE.tenantBurst(), 0,
                                        1_000_000, "failed logins in a row per tenant; 0 = off"),
                                s.integer("LoginThrottleRefillMillis",
                                        (int) ClientSettings.DEFAULT_THROTTLE.refillMillis(), 1, 3_600_000,
                                        "milliseconds per attempt regained"),
                                s.integer("LoginThrottleDelayMillis",
                                        (int) ClientSettings.DEFAULT_THROTTLE.delayMillis(), 0, 60_000,
                                        "milliseconds a throttled answer waits"))),
                unknownUserAuth(s));
    }

    private static com.perseusproxy.core.auth.UnknownUserAuth unknownUserAuth(JsonSection s) throws ConfigException {
        String name = s.string("UnknownUserAuth", com.perseusproxy.core.auth.UnknownUserAuth.CLEARTEXT.configName());
        com.perseusproxy.core.auth.UnknownUserAuth method = com.perseusproxy.core.auth.UnknownUserAuth.parse(name);
        if (method == null) {
            throw new ConfigException(s.join("UnknownUserAuth") + " must be \"cleartext\" or \"scram-sha-256\" (the"
                    + " method most perseus_auth rows use), got \"" + name + "\"");
        }
        return method;
    }

    private static TrackedSettings trackedSettings(JsonSection s) throws ConfigException {
        try {
            return new TrackedSettings(s.stringList("TrackExtraParameters", TrackedSettings.DEFAULT_EXTRA));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(s.join("TrackExtraParameters") + ": " + e.getMessage()
                    + "; list PostgreSQL parameter names such as \"statement_timeout\"");
        }
    }
}
