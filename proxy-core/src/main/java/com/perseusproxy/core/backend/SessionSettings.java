package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.SqlQuoting;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The session settings a client's driver depends on, which the proxy carries from backend to backend: the client
 * states them at startup (and changes reported ones with SET), and each lease makes them true on the backend it gets.
 */
public final class SessionSettings {

    /**
     * Settings always tracked per client and per backend. All but extra_float_digits are reported by ParameterStatus.
     * More can be configured ({@link TrackedSettings}, {@code ClientSettings.TrackExtraParameters}).
     */
    public static final Set<String> TRACKED = Set.of("client_encoding", "DateStyle", "TimeZone", "IntervalStyle",
            "application_name", "extra_float_digits", "standard_conforming_strings");

    /**
     * The desired value "whatever the server's default is" ({@code RESET name}): what a client that never set a
     * tracked setting wants, so that a value another client of the backend set does not stay for it. A NUL cannot be
     * part of any real value (startup packets and queries are NUL-terminated).
     */
    public static final String SERVER_DEFAULT = "\0DEFAULT";

    /**
     * Settings whose changes the server does not report with ParameterStatus; so a session that never SET them since
     * its login or its last RESET ALL holds the server default.
     */
    static boolean unreported(String name) {
        return !TRACKED.contains(name) || name.equals("extra_float_digits");
    }

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

    /**
     * SET (or, for {@link #SERVER_DEFAULT}, RESET) statements, one ';'-separated string, for the settings whose value
     * differs, or "" if none does.
     */
    static String statementsToApply(Map<String, String> desired, Map<String, String> current) {
        return statementsToApply(desired, current, false);
    }

    /**
     * As {@link #statementsToApply(Map, Map)}; with {@code unreportedAtDefault}, a setting ParameterStatus does not
     * report and {@code current} does not hold counts as {@link #SERVER_DEFAULT} (the session never SET it).
     */
    static String statementsToApply(Map<String, String> desired, Map<String, String> current,
                                    boolean unreportedAtDefault) {
        // Runs at every lease, and almost always finds nothing to do: allocate only once a value differs (no copy of
        // either map: at tens of thousands of leases a second a HashMap per lease showed in the profile).
        StringBuilder sql = null;
        for (Map.Entry<String, String> setting : desired.entrySet()) {
            String name = setting.getKey();
            String value = setting.getValue();
            String held = current.get(name);
            if (held == null && unreportedAtDefault && unreported(name)) {
                held = SERVER_DEFAULT;
            }
            if (!value.equals(held)) {
                if (sql == null) {
                    sql = new StringBuilder();
                }
                if (value.equals(SERVER_DEFAULT)) {
                    sql.append("RESET ").append(SqlQuoting.identifier(name)).append(';');
                } else {
                    sql.append("SET ").append(SqlQuoting.identifier(name)).append(" TO ")
                            .append(SqlQuoting.literal(value)).append(';');
                }
            }
        }
        return sql == null ? "" : sql.toString();
    }

    /**
     * One query whose single row holds the session's current value of each setting, in order (NULL for a custom
     * setting the server does not know); see {@link BackendConnection} for when and why it is asked.
     */
    static String currentValuesQuery(List<String> names) {
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < names.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append("pg_catalog.current_setting(")
                    .append(SqlQuoting.literal(names.get(i))).append(", true)");
        }
        return sql.toString();
    }

    /** The settings among {@code names} that ParameterStatus does not report, in iteration order. */
    static List<String> unreportedAmong(Collection<String> names) {
        return names.stream().filter(SessionSettings::unreported).sorted().toList();
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
