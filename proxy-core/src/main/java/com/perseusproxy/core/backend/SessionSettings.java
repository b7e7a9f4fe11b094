package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.SqlQuoting;
import java.util.Map;
import java.util.Set;

/**
 * The session settings a client's driver depends on, which the proxy carries from backend to backend: the client
 * states them at startup (and changes reported ones with SET), and each lease makes them true on the backend it gets.
 */
public final class SessionSettings {

    /** Settings tracked per client and per backend. All but extra_float_digits are reported by ParameterStatus. */
    public static final Set<String> TRACKED = Set.of("client_encoding", "DateStyle", "TimeZone", "IntervalStyle",
            "application_name", "extra_float_digits", "standard_conforming_strings");

    private SessionSettings() {
    }

    /** The parameter name as the server spells it, for names a client may send in another case. */
    public static String canonicalName(String name) {
        for (String tracked : TRACKED) {
            if (tracked.equalsIgnoreCase(name)) {
                return tracked;
            }
        }
        return name;
    }

    /** SET statements (one string, ';'-separated) for the settings whose value differs, or "" if none does. */
    static String statementsToApply(Map<String, String> desired, Map<String, String> current) {
        // Runs at every lease, and almost always finds nothing to do: allocate only once a value differs.
        StringBuilder sql = null;
        for (Map.Entry<String, String> setting : desired.entrySet()) {
            String name = setting.getKey();
            String value = setting.getValue();
            if (!value.equals(current.get(name))) {
                if (sql == null) {
                    sql = new StringBuilder();
                }
                sql.append("SET ").append(SqlQuoting.identifier(name)).append(" TO ")
                        .append(SqlQuoting.literal(value)).append(';');
            }
        }
        return sql == null ? "" : sql.toString();
    }

    /** Whether a statement with this command tag dropped every prepared statement of the session. */
    public static boolean dropsPreparedStatements(String commandTag) {
        return commandTag.equals("DEALLOCATE ALL") || commandTag.equals("DISCARD ALL");
    }

    /** The statement that points a session at a tenant; pg_temp last so no temporary table shadows its tables. */
    public static String searchPathStatement(String schema) {
        return "SET search_path TO " + SqlQuoting.identifier(schema) + ", pg_temp";
    }
}
