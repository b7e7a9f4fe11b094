package com.perseusproxy.core.backend;

import java.util.HashMap;
import java.util.Map;

/**
 * What the server session behind one backend connection holds, as far as the proxy must know: the parameters it
 * reported at login, the current values of the tracked settings, and whether they are in doubt (an injected SET
 * failed: the next lease starts with the full {@link SessionReset}, which returns the settings to their login values).
 */
final class ServerSessionState {

    /** Reported parameters right after login: what DISCARD ALL returns the session to. */
    private final Map<String, String> loginParameters = new HashMap<>();
    /** The session values the server currently holds for the tracked settings, as last reported or set. */
    private final Map<String, String> currentSettings = new HashMap<>();
    /**
     * The desired settings (an immutable map, shared by the clients whose settings are equal) that this session was
     * last found to hold, or null once anything may have changed its settings since. Most leases find the settings
     * already right: comparing the map's identity spares them the setting-by-setting comparison.
     */
    private Map<String, String> heldDesired;
    private boolean dirty;

    /** Filled by the login handshake's ParameterStatus messages. */
    Map<String, String> loginParameters() {
        return loginParameters;
    }

    Map<String, String> currentSettings() {
        return currentSettings;
    }

    /** Login finished: the tracked settings are at their login values. */
    void loggedIn() {
        resetToLoginValues();
    }

    /** A ParameterStatus from the server. */
    void observe(String name, String value) {
        if (SessionSettings.TRACKED.contains(name)) {
            currentSettings.put(name, value);
            heldDesired = null;
        }
    }

    /** A failed SET left the settings in doubt: reset before the next client. */
    void markDirty() {
        dirty = true;
        heldDesired = null;
    }

    /** Whether the next lease must start with the full reset (the caller then calls {@link #resetToLoginValues}). */
    boolean takeResetNeeded() {
        boolean needed = dirty;
        dirty = false;
        return needed;
    }

    /**
     * The SET statements that make the session hold the desired settings ("" if it already does); the settings
     * count as applied from now on (the server's ParameterStatus replies correct the spelling). {@code desired} must not
     * change afterwards (see {@link #heldDesired}): a client's changed settings are a new map.
     */
    String applySettings(Map<String, String> desired, boolean force) {
        if (!force && desired == heldDesired) {
            return ""; // nothing has touched the settings since they were found equal to these very ones
        }
        // force: the session may hold values nobody reported (extra_float_digits), so send every desired one.
        // Otherwise a setting the server does not report and the proxy has not set since the login or the last RESET
        // ALL is at the server's default: the client's own SETs of it make the proxy ask for its value (learned) or
        // reset the session before another tenant uses it.
        String sql = force ? SessionSettings.statementsToApply(desired, Map.of())
                : SessionSettings.statementsToApply(desired, currentSettings, true);
        if (!sql.isEmpty()) {
            currentSettings.putAll(desired);
        }
        heldDesired = force ? null : desired; // after a forced apply the server's replies settle the values first
        return sql;
    }

    /** The session's value of a setting, as the server said when asked (null: a custom setting it does not know). */
    void learned(String name, String value) {
        currentSettings.put(name, value == null ? SessionSettings.SERVER_DEFAULT : value);
        heldDesired = null;
    }

    /** A reset ran (RESET ALL): the tracked settings are back at their login values. */
    void resetToLoginValues() {
        currentSettings.clear();
        heldDesired = null;
        loginParameters.forEach(this::observe);
    }
}
