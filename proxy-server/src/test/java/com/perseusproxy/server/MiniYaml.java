package com.perseusproxy.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the block-style YAML subset the Kubernetes manifests in deploy/kubernetes use (maps, indented "- " lists,
 * plain and quoted scalars, JSON-style flow lists, "|" block scalars, whole-line comments), into maps, lists and
 * strings. No YAML library is on the classpath, and this is enough to check the manifests' structure; it rejects
 * what it does not understand rather than guessing.
 */
final class MiniYaml {

    private final List<String> lines = new ArrayList<>();
    private int at;

    private MiniYaml(String text) {
        for (String line : text.split("\n", -1)) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty() && !trimmed.startsWith("#") && !trimmed.equals("---")) {
                lines.add(line.stripTrailing());
            } else if (trimmed.isEmpty() && !lines.isEmpty()) {
                lines.add(""); // kept for block scalars
            }
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String text) {
        MiniYaml y = new MiniYaml(text);
        y.skipBlank();
        return (Map<String, Object>) y.block(y.indent(y.at));
    }

    private Object block(int indent) {
        return lines.get(at).strip().startsWith("- ") ? list(indent) : map(indent);
    }

    private Map<String, Object> map(int indent) {
        Map<String, Object> map = new LinkedHashMap<>();
        while (at < lines.size() && indent(at) == indent && !lines.get(at).strip().startsWith("- ")) {
            String line = lines.get(at).strip();
            int colon = line.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("not a key: " + line);
            }
            String key = unquote(line.substring(0, colon).strip());
            String rest = line.substring(colon + 1).strip();
            at++;
            if (rest.equals("|")) {
                map.put(key, blockScalar(indent));
            } else if (rest.isEmpty()) {
                skipBlank();
                map.put(key, at < lines.size() && indent(at) > indent ? block(indent(at)) : null);
            } else {
                map.put(key, scalar(rest));
            }
            skipBlank();
        }
        if (at < lines.size() && indent(at) > indent) {
            throw new IllegalArgumentException("unexpected indentation: " + lines.get(at));
        }
        return map;
    }

    private List<Object> list(int indent) {
        List<Object> list = new ArrayList<>();
        while (at < lines.size() && indent(at) == indent && lines.get(at).strip().startsWith("- ")) {
            String line = lines.get(at);
            String item = line.strip().substring(2).strip();
            if (item.contains(": ") || item.endsWith(":")) {
                // "- key: value" opens a map whose keys sit two columns further in.
                lines.set(at, " ".repeat(indent + 2) + item);
                list.add(map(indent + 2));
            } else {
                at++;
                list.add(scalar(item));
            }
            skipBlank();
        }
        return list;
    }

    private String blockScalar(int parentIndent) {
        StringBuilder text = new StringBuilder();
        int blockIndent = -1;
        while (at < lines.size() && (lines.get(at).isEmpty() || indent(at) > parentIndent)) {
            String line = lines.get(at++);
            if (blockIndent < 0 && !line.isEmpty()) {
                blockIndent = indent(at - 1);
            }
            text.append(line.isEmpty() ? "" : line.substring(Math.min(blockIndent, line.length()))).append('\n');
        }
        return text.toString();
    }

    private static Object scalar(String text) {
        if (text.startsWith("[")) {
            try {
                return new ObjectMapper().readValue(text, List.class);
            } catch (Exception e) {
                throw new IllegalArgumentException("flow list: " + text, e);
            }
        }
        return unquote(text);
    }

    private static String unquote(String text) {
        if (text.length() >= 2 && (text.startsWith("\"") && text.endsWith("\"")
                || text.startsWith("'") && text.endsWith("'"))) {
            return text.substring(1, text.length() - 1);
        }
        return text;
    }

    private void skipBlank() {
        while (at < lines.size() && lines.get(at).isEmpty()) {
            at++;
        }
    }

    private int indent(int line) {
        String s = lines.get(line);
        int i = 0;
        while (i < s.length() && s.charAt(i) == ' ') {
            i++;
        }
        return i;
    }
}
