package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One entry of {@code CredentialCommands}: the backend named {@code dest_host/dest_db} (as in perseus_auth) takes its
 * credentials from this command rather than from {@code dest_user}/{@code dest_pass_enc}.
 *
 * @param command the program and its arguments, run without a shell
 * @param timeout {@code TimeoutSecs}, default 10
 */
public record CredentialCommandSettings(List<String> command, Duration timeout) {

    static final List<String> KEYS = List.of("Command", "TimeoutSecs");

    public CredentialCommandSettings {
        command = List.copyOf(command);
    }

    static Map<String, CredentialCommandSettings> readAll(JsonSection top) throws ConfigException {
        Map<String, CredentialCommandSettings> all = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> entry : top.entries("CredentialCommands").entrySet()) {
            String name = "CredentialCommands[\"" + entry.getKey() + "\"]";
            if (!entry.getKey().matches("[^/]+/[^/]+")) {
                throw new ConfigException(name + ": name each entry dest_host/dest_db as written in perseus_auth,"
                        + " e.g. \"db1.internal:5432/mattermost\"");
            }
            JsonSection section = new JsonSection(name, entry.getValue(), Map.of(), KEYS);
            int timeout = section.integer("TimeoutSecs", 10, 1, 600, "seconds the command may run");
            all.put(entry.getKey(), new CredentialCommandSettings(command(name, entry.getValue()),
                    Duration.ofSeconds(timeout)));
        }
        return all;
    }

    private static List<String> command(String name, JsonNode entry) throws ConfigException {
        JsonNode array = null;
        for (Map.Entry<String, JsonNode> field : entry.properties()) {
            if (field.getKey().equalsIgnoreCase("Command")) {
                array = field.getValue();
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
                    + " arguments, e.g. [\"/usr/local/bin/db-creds\", \"mattermost\"] (no shell is involved)");
        }
        return command;
    }
}
