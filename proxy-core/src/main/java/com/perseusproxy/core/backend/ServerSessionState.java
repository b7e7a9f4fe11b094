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
        }
    }

    /** A failed SET left the settings in doubt: reset before the next client. */
    void markDirty() {
        dirty = true;
    }

    /** Whether the next lease must start with the full reset (the caller then calls {@link #resetToLoginValues}). */
    boolean takeResetNeeded() {
        boolean needed = dirty;
        dirty = false;
        return needed;
    }

    /**
     * The SET statements that make the session hold the desired settings ("" if it already does); the settings
     * count as applied from now on (the server's ParameterStatus replies correct the spelling).
     */
    String applySettings(Map<String, String> desired, boolean force) {
        // force: the session may hold values nobody reported (extra_float_digits), so send every desired one.
        // Otherwise a setting the server does not report and the proxy has not set since the login or the last RESET
        // ALL is at the server's default: the client's own SETs of it make the proxy ask for its value (learned) or
        // reset the session before another tenant uses it.
        String sql = force ? SessionSettings.statementsToApply(desired, Map.of())
                : SessionSettings.statementsToApply(desired, currentSettings, true);
        if (!sql.isEmpty()) {
            currentSettings.putAll(desired);
        }
        return sql;
    }

    /** The session's value of a setting, as the server said when asked (null: a custom setting it does not know). */
    void learned(String name, String value) {
        currentSettings.put(name, value == null ? SessionSettings.SERVER_DEFAULT : value);
    }

    /** A reset ran (RESET ALL): the tracked settings are back at their login values. */
    void resetToLoginValues() {
        currentSettings.clear();
        loginParameters.forEach(this::observe);
    }
}
