package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeType;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One JSON object of the config file, read the way Perseus (Go's encoding/json with DisallowUnknownFields, then
 * kelseyhightower/envconfig) reads it: keys match case-insensitively, unknown keys are errors, and an environment
 * variable {@code PERSEUS_<SECTION>_<KEY>} (upper case) overrides a value from the file.
 */
final class JsonSection {

    private final String path;
    /** The key path environment variable names are made from; differs from {@code path} only for map entries. */
    private final String envPath;
    private final List<String> allowed;
    private final Map<String, JsonNode> values = new LinkedHashMap<>();
    private final Map<String, String> env;
    /** Every key read, with its effective value and default, for the console's SHOW CONFIG (shared by sections). */
    private final Map<String, String[]> listing;

    /**
     * @param path    the section's key path for messages, "" for the top level
     * @param node    the JSON object, or null when the section is absent
     * @param env     environment variables to override from; empty where Perseus has no overrides (map entries)
     * @param allowed the section's keys, spelled as documented
     */
    JsonSection(String path, JsonNode node, Map<String, String> env, List<String> allowed) throws ConfigException {
        this(path, path, node, env, allowed, new LinkedHashMap<>());
    }

    /** @param envPath the key path that names environment overrides, e.g. {@code CredentialSources.DB1_MM} */
    JsonSection(String path, String envPath, JsonNode node, Map<String, String> env, List<String> allowed)
            throws ConfigException {
        this(path, envPath, node, env, allowed, new LinkedHashMap<>());
    }

    private JsonSection(String path, String envPath, JsonNode node, Map<String, String> env, List<String> allowed,
                        Map<String, String[]> listing) throws ConfigException {
        this.listing = listing;
        this.path = path;
        this.envPath = envPath;
        this.allowed = allowed;
        this.env = env;
        if (node == null || node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new ConfigException(where() + " must be a JSON object with the keys " + String.join(", ", allowed)
                    + ", got " + describe(node));
        }
        for (Map.Entry<String, JsonNode> field : node.properties()) {
            String key = canonical(field.getKey());
            if (values.containsKey(key)) {
                throw new ConfigException("key " + join(key) + " appears twice (keys match regardless of case): "
                        + "keep one");
            }
            if (!field.getValue().isNull()) {
                values.put(key, field.getValue());
            }
        }
    }

    JsonSection section(String key, List<String> keys) throws ConfigException {
        return new JsonSection(join(key), join(key), values.get(key), env, keys, listing);
    }

    /** Key path to {value, default} of every key read so far (values as written; secrets not yet masked). */
    Map<String, String[]> listing() {
        return listing;
    }

    private <T> T listed(String key, T value, Object defaultValue) {
        listing.put(join(key), new String[] {String.valueOf(value), String.valueOf(defaultValue)});
        return value;
    }

    /**
     * A map of names to strings (e.g. AdminSettings.AdminUsers: user -> hashes). The environment variable, if set,
     * holds the whole map as a JSON object, since envconfig's {@code k:v,k:v} form cannot carry values with commas
     * and colons such as hash lists.
     */
    Map<String, String> stringMap(String key) throws ConfigException {
        JsonNode node = values.get(key);
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            try {
                node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(fromEnv);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new ConfigException("environment variable " + envName(key) + " (overriding " + join(key)
                        + ") must be a JSON object such as {\"name\": \"hash,hash\"}; it is not valid JSON");
            }
        }
        Map<String, String> map = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            listing.put(join(key), new String[] {"", ""});
            return map;
        }
        if (!node.isObject()) {
            throw new ConfigException(join(key) + " must be a JSON object (name -> string), got " + describe(node));
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ConfigException(join(key) + "[\"" + e.getKey() + "\"] must be a JSON string, got "
                        + describe(e.getValue()));
            }
            map.put(e.getKey(), e.getValue().textValue());
        }
        // Names only: the values of such maps are password hashes.
        listing.put(join(key), new String[] {String.join(",", map.keySet()), ""});
        return map;
    }

    /** Whether the file gave this section no keys (environment overrides aside). */
    boolean isEmpty() {
        return values.isEmpty();
    }

    /** The entries of a map-valued key (e.g. OverrideSettings), in file order; empty when absent. */
    Map<String, JsonNode> entries(String key) throws ConfigException {
        JsonNode node = values.get(key);
        Map<String, JsonNode> entries = new LinkedHashMap<>();
        if (node == null) {
            return entries;
        }
        if (!node.isObject()) {
            throw new ConfigException(join(key) + " must be a JSON object (name -> settings), got " + describe(node));
        }
        node.properties().forEach(e -> entries.put(e.getKey(), e.getValue()));
        return entries;
    }

    /** The keys given in the file, in their documented spelling. */
    java.util.Set<String> presentKeys() {
        java.util.Set<String> present = new java.util.LinkedHashSet<>(values.keySet());
        for (String key : allowed) {
            if (env.containsKey(envName(key))) {
                present.add(key);
            }
        }
        return present;
    }

    /** The raw value from the file, or null. */
    JsonNode node(String key) {
        return values.get(key);
    }

    /** The overriding environment variable's value, or null. */
    String fromEnv(String key) {
        return env.get(envName(key));
    }

    String string(String key, String defaultValue) throws ConfigException {
        return listed(key, readString(key, defaultValue), defaultValue);
    }

    private String readString(String key, String defaultValue) throws ConfigException {
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            return fromEnv;
        }
        JsonNode node = values.get(key);
        if (node == null) {
            return defaultValue;
        }
        if (!node.isTextual()) {
            throw new ConfigException(join(key) + " must be a JSON string, got " + describe(node));
        }
        return node.textValue();
    }

    /** A whole number in [min, max]; {@code rule} says what the value means when the range alone does not. */
    int integer(String key, int defaultValue, int min, int max, String rule) throws ConfigException {
        return listed(key, readInteger(key, defaultValue, min, max, rule), defaultValue);
    }

    private int readInteger(String key, int defaultValue, int min, int max, String rule) throws ConfigException {
        String allowedText = "a whole number from " + min + " to " + max + (rule.isEmpty() ? "" : " (" + rule + ")");
        long value;
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            try {
                value = Long.parseLong(fromEnv.strip());
            } catch (NumberFormatException e) {
                throw new ConfigException("environment variable " + envName(key) + " (overriding " + join(key)
                        + ") must be " + allowedText + ", got \"" + fromEnv + "\"");
            }
        } else {
            JsonNode node = values.get(key);
            if (node == null) {
                return defaultValue;
            }
            if (!node.isIntegralNumber() || !node.canConvertToLong()) {
                throw new ConfigException(join(key) + " must be " + allowedText + ", got " + describe(node));
            }
            value = node.longValue();
        }
        if (value < min || value > max) {
            throw new ConfigException(join(key) + " must be " + allowedText + ", got " + value);
        }
        return (int) value;
    }

    /**
     * A JSON array of strings; from the environment, comma-separated (envconfig's form for a slice), where an empty
     * variable means an empty list.
     */
    List<String> stringList(String key, List<String> defaultValue) throws ConfigException {
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            List<String> items = new java.util.ArrayList<>();
            for (String item : fromEnv.split(",")) {
                if (!item.isBlank()) {
                    items.add(item.strip());
                }
            }
            return List.copyOf(items);
        }
        JsonNode node = values.get(key);
        if (node == null) {
            return defaultValue;
        }
        if (!node.isArray()) {
            throw new ConfigException(join(key) + " must be a JSON array of strings, got " + describe(node));
        }
        List<String> items = new java.util.ArrayList<>();
        for (JsonNode item : node) {
            if (!item.isTextual()) {
                throw new ConfigException(join(key) + " must be a JSON array of strings, got an element that is "
                        + describe(item));
            }
            items.add(item.textValue());
        }
        return List.copyOf(items);
    }

    boolean bool(String key, boolean defaultValue) throws ConfigException {
        return listed(key, readBool(key, defaultValue), defaultValue);
    }

    private boolean readBool(String key, boolean defaultValue) throws ConfigException {
        String fromEnv = env.get(envName(key));
        if (fromEnv != null) {
            // Go's strconv.ParseBool, which envconfig uses.
            switch (fromEnv.strip()) {
                case "1", "t", "T", "true", "TRUE", "True":
                    return true;
                case "0", "f", "F", "false", "FALSE", "False":
                    return false;
                default:
                    throw new ConfigException("environment variable " + envName(key) + " (overriding " + join(key)
                            + ") must be true or false, got \"" + fromEnv + "\"");
            }
        }
        JsonNode node = values.get(key);
        if (node == null) {
            return defaultValue;
        }
        if (!node.isBoolean()) {
            throw new ConfigException(join(key) + " must be true or false, got " + describe(node));
        }
        return node.booleanValue();
    }

    /** The full key path, e.g. {@code AuthDBSettings.AuthQueryTimeoutSecs}. */
    String join(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** envconfig's name: PERSEUS_ and the key path in upper case, joined by underscores. */
    String envName(String key) {
        String joined = envPath.isEmpty() ? key : envPath + "." + key;
        return ("PERSEUS_" + joined.replace('.', '_')).toUpperCase(Locale.ROOT);
    }

    private String canonical(String key) throws ConfigException {
        for (String candidate : allowed) {
            if (candidate.equalsIgnoreCase(key)) {
                return candidate;
            }
        }
        throw new ConfigException("unknown key " + join(key) + " in " + where() + ": the allowed keys are "
                + String.join(", ", allowed) + " (check the spelling, or remove the key)");
    }

    private String where() {
        return path.isEmpty() ? "the top level of the config" : path;
    }

    /** The JSON type only: a value in the wrong place may be a secret, so it is not echoed. */
    private static String describe(JsonNode node) {
        JsonNodeType type = node.getNodeType();
        return switch (type) {
            case NUMBER -> node.isIntegralNumber() ? "a number out of range" : "a number with a fraction";
            case STRING -> "a string";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }
}
