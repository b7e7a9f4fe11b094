package com.perseusproxy.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.config.ConfigException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One entry of {@code CredentialSources} (or of its older spelling {@code CredentialCommands}, which holds commands
 * only): the backend named {@code dest_host/dest_db} as in perseus_auth takes its credentials from this source instead
 * of the rows' {@code dest_user}/{@code dest_pass_enc}. Only the keys of the entry's {@link Kind} are allowed.
 *
 * @param command      kind command: the program and its arguments, run without a shell
 * @param timeout      kind command: {@code TimeoutSecs}, default 10
 * @param secretId     kind secrets-manager: the secret's name or ARN
 * @param versionStage kind secrets-manager: default {@code AWSCURRENT}
 * @param refresh      kind secrets-manager: {@code RefreshSecs}, default 60; zero = no periodic re-read
 * @param region       kind rds-iam: the region the token is signed for; empty = {@code AWSSettings.Region}
 * @param user         kind rds-iam: the database user the token is for
 */
public record CredentialSourceSettings(Kind kind, List<String> command, Duration timeout, String secretId,
                                       String versionStage, Duration refresh, String region, String user) {

    /** The kinds of source, spelled as in the config. */
    public enum Kind {
        COMMAND("command", List.of("Command", "TimeoutSecs")),
        SECRETS_MANAGER("secrets-manager", List.of("SecretId", "VersionStage", "RefreshSecs")),
        RDS_IAM("rds-iam", List.of("Region", "User"));

        private final String spelling;
        private final List<String> keys;

        Kind(String spelling, List<String> keys) {
            this.spelling = spelling;
            this.keys = keys;
        }

        public String spelling() {
            return spelling;
        }

        static Kind parse(String text, String where) throws ConfigException {
            for (Kind kind : values()) {
                if (kind.spelling.equalsIgnoreCase(text.strip())) {
                    return kind;
                }
            }
            throw new ConfigException(where + " must be one of command, secrets-manager, rds-iam, got \"" + text
                    + "\"");
        }
    }

    static final String SECTION = "CredentialSources";
    static final String ALIAS = "CredentialCommands";
    static final List<String> KEYS = List.of("Kind", "Command", "TimeoutSecs", "SecretId", "VersionStage",
            "RefreshSecs", "Region", "User");
    static final int DEFAULT_REFRESH_SECS = 60;
    private static final ObjectMapper JSON = new ObjectMapper();

    public CredentialSourceSettings {
        command = List.copyOf(command);
    }

    /** A command entry (what {@code CredentialCommands} holds). */
    public static CredentialSourceSettings command(List<String> command, Duration timeout) {
        return new CredentialSourceSettings(Kind.COMMAND, command, timeout, "", "", Duration.ZERO, "", "");
    }

    public static CredentialSourceSettings secretsManager(String secretId, String versionStage, Duration refresh) {
        return new CredentialSourceSettings(Kind.SECRETS_MANAGER, List.of(), Duration.ZERO, secretId, versionStage,
                refresh, "", "");
    }

    public static CredentialSourceSettings rdsIam(String region, String user) {
        return new CredentialSourceSettings(Kind.RDS_IAM, List.of(), Duration.ZERO, "", "", Duration.ZERO, region,
                user);
    }

    /** Both sections, merged; the same backend in both is an error (which one would win is not obvious). */
    static Map<String, CredentialSourceSettings> readAll(JsonSection top, Map<String, String> env)
            throws ConfigException {
        Map<String, CredentialSourceSettings> all = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : top.entries(SECTION).entrySet()) {
            all.put(entry.getKey(), read(SECTION, entry.getKey(), entry.getValue(), env, KEYS));
        }
        for (Map.Entry<String, JsonNode> entry : top.entries(ALIAS).entrySet()) {
            if (all.containsKey(entry.getKey())) {
                throw new ConfigException(ALIAS + "[\"" + entry.getKey() + "\"] is also in " + SECTION
                        + ": keep one (CredentialCommands is the older spelling of a CredentialSources entry of"
                        + " Kind command)");
            }
            all.put(entry.getKey(), read(ALIAS, entry.getKey(), entry.getValue(), env, Kind.COMMAND.keys));
        }
        return all;
    }

    private static CredentialSourceSettings read(String section, String key, JsonNode node, Map<String, String> env,
                                                 List<String> allowed) throws ConfigException {
        String name = section + "[\"" + key + "\"]";
        if (!key.matches("[^/]+/[^/]+")) {
            throw new ConfigException(name + ": name each entry dest_host/dest_db as written in perseus_auth,"
                    + " e.g. \"db1.internal:5432/mattermost\"");
        }
        // Map entries get overrides too, named after the entry with every character that cannot be in an
        // environment variable's name replaced by '_': PERSEUS_CREDENTIALSOURCES_DB1_INTERNAL_5432_MM_SECRETID.
        String envPath = section + "." + key.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
        JsonSection s = new JsonSection(name, envPath, node, env, allowed);
        Kind kind = section.equals(ALIAS) ? Kind.COMMAND : Kind.parse(s.string("Kind", ""), s.join("Kind"));
        for (String present : s.presentKeys()) {
            if (!present.equals("Kind") && !kind.keys.contains(present)) {
                throw new ConfigException(s.join(present) + " does not apply to Kind " + kind.spelling
                        + ": its keys are Kind, " + String.join(", ", kind.keys));
            }
        }
        return switch (kind) {
            case COMMAND -> command(command(s, name),
                    Duration.ofSeconds(s.integer("TimeoutSecs", 10, 1, 600, "seconds the command may run")));
            case SECRETS_MANAGER -> {
                String secretId = s.string("SecretId", "").strip();
                if (secretId.isEmpty()) {
                    throw new ConfigException(s.join("SecretId") + " is required for Kind secrets-manager: the"
                            + " secret's name or ARN, e.g. \"prod/mattermost/db\"");
                }
                String stage = s.string("VersionStage", "").strip();
                yield secretsManager(secretId, stage.isEmpty() ? "AWSCURRENT" : stage,
                        Duration.ofSeconds(s.integer("RefreshSecs", DEFAULT_REFRESH_SECS, 0, 86_400,
                                "seconds between re-reads; 0 = only on SIGHUP and after a refused login")));
            }
            case RDS_IAM -> {
                String user = s.string("User", "").strip();
                if (user.isEmpty()) {
                    throw new ConfigException(s.join("User") + " is required for Kind rds-iam: the database user"
                            + " granted rds_iam, e.g. \"mattermost_iam\"");
                }
                yield rdsIam(s.string("Region", "").strip(), user);
            }
        };
    }

    /** From the file a JSON array; from the environment the same array as JSON text. */
    private static List<String> command(JsonSection s, String name) throws ConfigException {
        JsonNode array = s.node("Command");
        String fromEnv = s.fromEnv("Command");
        if (fromEnv != null) {
            try {
                array = JSON.readTree(fromEnv);
            } catch (IOException e) {
                array = null; // reported below, without echoing the value
            }
        }
        List<String> command = new ArrayList<>();
        if (array != null && array.isArray()) {
            for (JsonNode part : array) {
                if (!part.isTextual()) {
                    command.clear();
                    break;
                }
                command.add(part.asText());
            }
        }
        if (command.isEmpty() || command.get(0).isBlank()) {
            throw new ConfigException(name + ".Command must be a non-empty array of strings: the program, then its"
                    + " arguments, e.g. [\"/usr/local/bin/db-creds\", \"mattermost\"] (no shell is involved;"
                    + " from the environment, the same JSON array)");
        }
        return command;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case COMMAND -> "command " + (command.isEmpty() ? "" : command.get(0)) + " (timeout "
                    + timeout.toSeconds() + " s)";
            case SECRETS_MANAGER -> "secrets-manager " + secretId + " (" + versionStage + ", re-read every "
                    + refresh.toSeconds() + " s)";
            case RDS_IAM -> "rds-iam user " + user + (region.isEmpty() ? "" : " in " + region);
        };
    }
}
