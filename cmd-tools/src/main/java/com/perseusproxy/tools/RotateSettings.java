package com.perseusproxy.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.config.AuthDbDsn;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.secrets.KmsSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code rotate} needs from the proxy's own config file: the auth database, the key that encrypts
 * {@code dest_pass_enc} (AWS KMS or a local key file), the NOTIFY channel and the metrics address. Read as the proxy
 * reads them (keys case-insensitive, {@code PERSEUS_<SECTION>_<KEY>} environment variables override the file), so
 * operators point the tool at the file the replicas run with. The proxy's full validation is not repeated: the
 * cmd-tools module cannot depend on the server module (whose tests depend on it).
 */
record RotateSettings(AuthDbDsn authDb, KmsSettings kms, Path localKeyFile, String notifyChannel,
                      String metricsAddress) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static RotateSettings load(Path file, Map<String, String> env) throws UsageException {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            // Jackson's message may quote the file (the DSN's password): say where only.
            throw new UsageException("-config " + file + ": cannot read it as JSON (" + e.getClass().getSimpleName()
                    + "); give the config file the proxy replicas run with");
        }
        String dsn = value(root, env, "AuthDBSettings", "AuthDBDSN");
        if (dsn.isBlank()) {
            throw new UsageException("-config " + file + " has no AuthDBSettings.AuthDBDSN");
        }
        AuthDbDsn authDb;
        try {
            authDb = AuthDbDsn.parse(dsn);
        } catch (ConfigException e) {
            throw new UsageException("-config " + file + ": " + e.getMessage());
        }
        String keyArn = value(root, env, "AWSSettings", "KMSKeyARN");
        KmsSettings kms = null;
        if (!keyArn.isBlank()) {
            try {
                kms = KmsSettings.of(keyArn, value(root, env, "AWSSettings", "Region"),
                        value(root, env, "AWSSettings", "Endpoint"), value(root, env, "AWSSettings", "AccessKeyId"),
                        value(root, env, "AWSSettings", "SecretAccessKey"));
            } catch (IllegalArgumentException e) {
                throw new UsageException("-config " + file + ": AWSSettings: " + e.getMessage());
            }
        }
        String keyFile = value(root, env, "LocalKeySettings", "KeyFile");
        if (kms == null && keyFile.isBlank()) {
            throw new UsageException("-config " + file + " sets neither AWSSettings.KMSKeyARN nor"
                    + " LocalKeySettings.KeyFile: rotate encrypts the new password with the proxy's key");
        }
        String channel = value(root, env, "AuthDBSettings", "NotifyChannel");
        if (channel.isEmpty() && !present(root, "AuthDBSettings", "NotifyChannel")
                && env.get("PERSEUS_AUTHDBSETTINGS_NOTIFYCHANNEL") == null) {
            channel = "perseus_auth_changed"; // the proxy's default
        }
        return new RotateSettings(authDb, kms, keyFile.isBlank() ? null : Path.of(keyFile), channel,
                value(root, env, "", "MetricsAddress"));
    }

    /** The value of {@code section.key} ({@code key} at the top when section is empty), env first; "" if absent. */
    private static String value(JsonNode root, Map<String, String> env, String section, String key) {
        String envName = ("PERSEUS_" + (section.isEmpty() ? "" : section + "_") + key).toUpperCase(Locale.ROOT);
        if (env.get(envName) != null) {
            return env.get(envName);
        }
        JsonNode node = section.isEmpty() ? root : field(root, section);
        JsonNode value = node == null ? null : field(node, key);
        return value == null || !value.isTextual() ? "" : value.textValue();
    }

    private static boolean present(JsonNode root, String section, String key) {
        JsonNode node = field(root, section);
        return node != null && field(node, key) != null;
    }

    /** Keys match regardless of case, as in the proxy. */
    private static JsonNode field(JsonNode node, String key) {
        if (node == null || !node.isObject()) {
            return null;
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (e.getKey().equalsIgnoreCase(key) && !e.getValue().isNull()) {
                return e.getValue();
            }
        }
        return null;
    }
}
