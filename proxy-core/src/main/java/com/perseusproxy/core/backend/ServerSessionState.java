package com.perseusproxy.core.backend;

import java.util.HashMap;
import java.util.Map;

/**
 * What the server session behind one backend connection holds, as far as the proxy must know: the parameters it
 * reported at login, the current values of the tracked settings, and whether an earlier client may have left session
 * state behind (then the next lease starts with DISCARD ALL, which returns the settings to their login values).
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

    /** A client's statement or a failed SET may have left state behind: reset before the next client. */
    void markDirty() {
        dirty = true;
    }

    /** Whether the next lease must start with DISCARD ALL; if so, the settings are taken as reset from now on. */
    boolean takeResetNeeded() {
        if (!dirty) {
            return false;
        }
        dirty = false;
        resetToLoginValues();
        return true;
    }

    /**
     * The SET statements that make the session hold the desired settings ("" if it already does); the settings
     * count as applied from now on (the server's ParameterStatus replies correct the spelling).
     */
    String applySettings(Map<String, String> desired) {
        String sql = SessionSettings.statementsToApply(desired, currentSettings);
        if (!sql.isEmpty()) {
            currentSettings.putAll(desired);
        }
        return sql;
    }

    private void resetToLoginValues() {
        currentSettings.clear();
        loginParameters.forEach(this::observe);
    }
}
