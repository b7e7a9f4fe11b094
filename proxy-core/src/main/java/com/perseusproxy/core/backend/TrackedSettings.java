package com.perseusproxy.core.backend;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which session settings the proxy carries from backend to backend for each client: the ones PostgreSQL reports
 * ({@link SessionSettings#TRACKED}) and the extra ones configured in {@code ClientSettings.TrackExtraParameters}
 * (like PgBouncer's {@code track_extra_parameters}). A client states them at startup (as startup parameters or in
 * {@code options=-c name=value}); each lease makes them true on the backend it gets, when they differ from what that
 * backend holds. Without this, a statement_timeout a driver set at startup would silently vanish on the next backend.
 */
public final class TrackedSettings {

    /** The default extra settings: the safety limits drivers set at startup, and work_mem. */
    public static final List<String> DEFAULT_EXTRA = List.of("statement_timeout", "lock_timeout",
            "idle_in_transaction_session_timeout", "work_mem");

    /**
     * Never carried: they decide which tenant's tables a session reads and with whose rights, so the proxy alone sets
     * them (search_path) or resets them between tenants (role, session_authorization).
     */
    static final Set<String> FORBIDDEN = Set.of("search_path", "role", "session_authorization");

    /** A PostgreSQL configuration parameter name, custom ones ({@code myext.setting}) included. */
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_$]*(\\.[a-z_][a-z0-9_$]*)*");

    /** Declared after {@link #NAME}, which its construction uses. */
    public static final TrackedSettings DEFAULT = new TrackedSettings(DEFAULT_EXTRA);

    /** Lower case (PostgreSQL's parameter names are case-insensitive), without the always-tracked ones. */
    private final Set<String> extra = new LinkedHashSet<>();

    /**
     * @throws IllegalArgumentException naming the first name that is not a parameter name or may not be tracked
     */
    public TrackedSettings(Collection<String> extraNames) {
        for (String name : extraNames) {
            String lower = name.strip().toLowerCase(Locale.ROOT);
            if (!NAME.matcher(lower).matches()) {
                throw new IllegalArgumentException("\"" + name + "\" is not a PostgreSQL parameter name");
            }
            if (FORBIDDEN.contains(lower)) {
                throw new IllegalArgumentException(lower + " cannot be tracked: the proxy sets it per tenant itself");
            }
            if (SessionSettings.canonicalName(lower).equals(lower) && !SessionSettings.TRACKED.contains(lower)) {
                extra.add(lower);
            } // else always tracked anyway
        }
    }

    /** The name as the proxy keys it: the server's spelling for the always-tracked ones, else lower case. */
    public String canonicalName(String name) {
        String canonical = SessionSettings.canonicalName(name);
        return SessionSettings.TRACKED.contains(canonical) ? canonical : canonical.toLowerCase(Locale.ROOT);
    }

    /** Whether a setting (named as {@link #canonicalName} gives) is carried for clients. */
    public boolean isTracked(String canonicalName) {
        return SessionSettings.TRACKED.contains(canonicalName) || extra.contains(canonicalName);
    }

    /** The configured extra settings, lower case, in configuration order. */
    public List<String> extra() {
        return List.copyOf(extra);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof TrackedSettings that && extra.equals(that.extra);
    }

    @Override
    public int hashCode() {
        return extra.hashCode();
    }

    @Override
    public String toString() {
        return String.join(", ", extra);
    }
}
