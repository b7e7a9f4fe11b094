package com.perseusproxy.server.config;

import com.perseusproxy.core.admin.AdminUsers;
import com.perseusproxy.core.config.ConfigException;
import java.util.List;
import java.util.Map;

/**
 * {@code AdminSettings}: who may use the admin console (the virtual databases {@code pgbouncer} and
 * {@code perseus}). Both keys map a user name to a comma list of password hashes in the same formats as
 * {@code source_pass_hashed}. Empty (the default) turns the console off: no one can log in to it.
 */
public record AdminSettings(Map<String, String> adminUsers, Map<String, String> statsUsers) {

    static final List<String> KEYS = List.of("AdminUsers", "StatsUsers");

    public AdminSettings {
        adminUsers = Map.copyOf(adminUsers);
        statsUsers = Map.copyOf(statsUsers);
    }

    public static AdminSettings defaults() {
        return new AdminSettings(Map.of(), Map.of());
    }

    static AdminSettings read(JsonSection s) throws ConfigException {
        AdminSettings settings = new AdminSettings(s.stringMap("AdminUsers"), s.stringMap("StatsUsers"));
        for (Map.Entry<String, String> e : settings.adminUsers.entrySet()) {
            check(s, "AdminUsers", e);
        }
        for (Map.Entry<String, String> e : settings.statsUsers.entrySet()) {
            check(s, "StatsUsers", e);
        }
        return settings;
    }

    private static void check(JsonSection s, String key, Map.Entry<String, String> entry) throws ConfigException {
        if (entry.getKey().isBlank()) {
            throw new ConfigException(s.join(key) + " has an empty user name: name each entry after the console user");
        }
        if (entry.getValue().isBlank()) {
            throw new ConfigException(s.join(key) + "[\"" + entry.getKey() + "\"] has no password hash: make one with"
                    + " 'perseus-tools genhash -password ...' (or genhash -scram) and put it there");
        }
    }

    public AdminUsers toAdminUsers() {
        return new AdminUsers(adminUsers, statsUsers);
    }

    /** User names only: the values are password hashes. */
    @Override
    public String toString() {
        return toAdminUsers().toString();
    }
}
