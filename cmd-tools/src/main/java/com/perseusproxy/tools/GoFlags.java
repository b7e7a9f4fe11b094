package com.perseusproxy.tools;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Command-line flags the way Go's flag package reads them, so Perseus's documented commands work unchanged:
 * {@code -name value}, {@code -name=value}, and the same with {@code --}. A boolean flag is set by its name alone
 * ({@code -verify}) or by {@code -verify=true|false}, never by a separate argument, as in Go. Parsing stops at
 * {@code --} or at the first argument that is not a flag; positional arguments are not used by any tool, so they are
 * an error.
 */
final class GoFlags {

    private final Map<String, String> values = new HashMap<>();
    private final boolean help;

    private GoFlags(boolean help) {
        this.help = help;
    }

    static GoFlags parse(String[] args, int from, List<String> known) throws UsageException {
        return parse(args, from, known, List.of());
    }

    /** @param booleans the flags among {@code known} that take no separate value */
    static GoFlags parse(String[] args, int from, List<String> known, List<String> booleans) throws UsageException {
        GoFlags flags = new GoFlags(false);
        int i = from;
        while (i < args.length) {
            String arg = args[i];
            if (arg.equals("--")) {
                i++;
                break;
            }
            if (!arg.startsWith("-") || arg.equals("-")) {
                break;
            }
            String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
            int eq = body.indexOf('=');
            String name = eq < 0 ? body : body.substring(0, eq);
            if (name.equals("h") || name.equals("help")) {
                return new GoFlags(true);
            }
            if (!known.contains(name)) {
                throw new UsageException("flag provided but not defined: -" + name);
            }
            String value;
            if (booleans.contains(name)) {
                value = eq < 0 ? "true" : parseBool(name, body.substring(eq + 1));
            } else if (eq >= 0) {
                value = body.substring(eq + 1);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new UsageException("flag needs an argument: -" + name);
            }
            flags.values.put(name, value);
            i++;
        }
        if (i < args.length) {
            throw new UsageException("unexpected argument '" + args[i] + "': this command takes only flags");
        }
        return flags;
    }

    /** Go's strconv.ParseBool spellings. */
    private static String parseBool(String name, String text) throws UsageException {
        return switch (text) {
            case "1", "t", "T", "true", "TRUE", "True" -> "true";
            case "0", "f", "F", "false", "FALSE", "False" -> "false";
            default -> throw new UsageException("invalid boolean value \"" + text + "\" for -" + name);
        };
    }

    boolean isSet(String name) {
        return "true".equals(values.get(name));
    }

    boolean has(String name) {
        return values.containsKey(name);
    }

    boolean helpRequested() {
        return help;
    }

    Optional<String> get(String name) {
        return Optional.ofNullable(values.get(name));
    }

    String require(String name, String what) throws UsageException {
        String value = values.get(name);
        if (value == null || value.isEmpty()) {
            throw new UsageException("missing -" + name + ": " + what);
        }
        return value;
    }
}
