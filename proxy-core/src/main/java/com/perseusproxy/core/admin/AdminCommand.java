package com.perseusproxy.core.admin;

import com.perseusproxy.core.protocol.PgException;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One console statement, parsed the way PgBouncer parses its console: a keyword, an optional argument, an optional
 * trailing semicolon, case-insensitive. Nothing else is SQL here, so anything else is refused with a clear error.
 *
 * @param verb     upper-case command: SHOW, RELOAD, PAUSE, RESUME, RECONNECT, KILL, KILL_CLIENT, WAIT_CLOSE, SHUTDOWN
 * @param argument the SHOW subject (upper case), the database name, the client id or SHUTDOWN's mode; null if none
 */
public record AdminCommand(String verb, String argument) {

    /** What SHOW knows. */
    static final Set<String> SHOWS = Set.of("POOLS", "CLIENTS", "SERVERS", "STATS", "STATS_TOTALS", "STATS_AVERAGES",
            "DATABASES", "USERS", "LISTS", "CONFIG", "VERSION", "STATE", "TENANTS", "CREDENTIALS", "ROTATION", "THROTTLE",
            "HELP");
    /** Commands that change something: only AdminUsers may run them. */
    static final Set<String> ACTIONS = Set.of("RELOAD", "PAUSE", "RESUME", "RECONNECT", "KILL", "KILL_CLIENT",
            "WAIT_CLOSE", "SHUTDOWN");

    /** SQLSTATE syntax_error: the statement is not a console command. */
    static final String SYNTAX_ERROR = "42601";

    private static final Pattern STATEMENT = Pattern.compile(
            "\\s*([A-Za-z_]+)(?:\\s+(\"(?:[^\"]|\"\")+\"|[^\\s;]+))?\\s*;?\\s*", Pattern.DOTALL);

    /** @throws PgException 42601 naming the statement and pointing at SHOW HELP */
    public static AdminCommand parse(String sql) {
        Matcher m = STATEMENT.matcher(sql);
        if (!m.matches()) {
            throw unknown(sql);
        }
        String verb = m.group(1).toUpperCase(Locale.ROOT);
        String argument = m.group(2);
        if (argument != null && argument.startsWith("\"")) {
            argument = argument.substring(1, argument.length() - 1).replace("\"\"", "\"");
        }
        switch (verb) {
            case "SHOW" -> {
                if (argument == null || !SHOWS.contains(argument.toUpperCase(Locale.ROOT))) {
                    throw unknown(sql);
                }
                return new AdminCommand(verb, argument.toUpperCase(Locale.ROOT));
            }
            case "RELOAD", "WAIT_CLOSE", "PAUSE", "RESUME", "RECONNECT", "KILL" -> {
                if (verb.equals("RELOAD") && argument != null) {
                    throw unknown(sql);
                }
                return new AdminCommand(verb, argument);
            }
            case "KILL_CLIENT" -> {
                if (argument == null) {
                    throw error(SYNTAX_ERROR, "KILL_CLIENT needs the client's id: the ptr column of SHOW"
                            + " CLIENTS (0x...) or that number in decimal");
                }
                return new AdminCommand(verb, argument);
            }
            case "SHUTDOWN" -> {
                if (argument != null && !argument.equalsIgnoreCase("WAIT_FOR_CLIENTS")) {
                    throw error(SYNTAX_ERROR, "SHUTDOWN takes no argument or WAIT_FOR_CLIENTS, got "
                            + printable(argument));
                }
                return new AdminCommand(verb, argument == null ? null : "WAIT_FOR_CLIENTS");
            }
            default -> throw unknown(sql);
        }
    }

    /** A console error: the statement fails, the console session stays. */
    static PgException error(String sqlState, String message) {
        return new PgException(sqlState, message, false, null);
    }

    boolean isAction() {
        return ACTIONS.contains(verb);
    }

    private static PgException unknown(String sql) {
        return error(SYNTAX_ERROR, "invalid command " + printable(sql.strip()) + ": the admin console"
                + " runs only its own commands (SHOW POOLS, SHOW CLIENTS, PAUSE, RESUME, ...), not SQL; use SHOW HELP");
    }

    /** Quoted, at most 80 characters, control characters replaced: the statement is the client's own text. */
    static String printable(String text) {
        String shortened = text.length() > 80 ? text.substring(0, 80) + "..." : text;
        StringBuilder out = new StringBuilder("'");
        shortened.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.append('\'').toString();
    }
}
