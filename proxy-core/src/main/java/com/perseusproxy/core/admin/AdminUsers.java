package com.perseusproxy.core.admin;

import java.util.Map;

/**
 * Who may use the console ({@code AdminSettings}): admin users may run every command, stats users only SHOW, as in
 * PgBouncer. Each maps a user name to a comma list of password hashes. A user in both lists is an admin.
 * {@link #toString()} names the users only, never a hash.
 */
public record AdminUsers(Map<String, String> admins, Map<String, String> stats) {

    /** What a console user may do. */
    public enum Role { ADMIN, STATS }

    public static final AdminUsers NONE = new AdminUsers(Map.of(), Map.of());

    public AdminUsers {
        admins = Map.copyOf(admins);
        stats = Map.copyOf(stats);
    }

    /** The stored hashes of this user, or null if the user may not use the console. */
    public String hashesOf(String user) {
        String hashes = admins.get(user);
        return hashes != null ? hashes : stats.get(user);
    }

    public Role roleOf(String user) {
        return admins.containsKey(user) ? Role.ADMIN : Role.STATS;
    }

    /**
     * Whether a console user logs in with SCRAM: then users not listed get a mock SCRAM exchange too, so the first
     * message does not tell a prober which console users exist.
     */
    public boolean anyScram() {
        return java.util.stream.Stream.concat(admins.values().stream(), stats.values().stream())
                .anyMatch(hashes -> !com.perseusproxy.core.auth.ScramVerifier.exchangeable(hashes).isEmpty());
    }

    public boolean isEmpty() {
        return admins.isEmpty() && stats.isEmpty();
    }

    @Override
    public String toString() {
        return "AdminUsers" + admins.keySet() + " StatsUsers" + stats.keySet();
    }
}
