package com.perseusproxy.core.pool;

import java.util.HashMap;
import java.util.Map;

/**
 * What a destination's server told the proxy that every login needs: the parameters it reports at startup
 * (server_version, server_encoding, ...) and how it spells the values of the settings clients ask for
 * ({@code DateStyle=ISO} becomes {@code ISO, MDY}). Once a value has been seen, later logins asking for it need no
 * probe lease, so a login costs no backend round trip. Used on the pool's event loop only.
 */
public final class ServerProfile {

    private Map<String, String> loginParameters;
    /** setting name -> value a client asked for -> the server's spelling of it. */
    private final Map<String, Map<String, String>> spellings = new HashMap<>();

    /** Server parameters at login, or null while no connection of this destination has logged in. */
    public Map<String, String> loginParameters() {
        return loginParameters;
    }

    public void recordLoginParameters(Map<String, String> parameters) {
        loginParameters = Map.copyOf(parameters);
    }

    public void recordSpelling(String name, String requested, String spelled) {
        spellings.computeIfAbsent(name, n -> new HashMap<>()).put(requested, spelled);
    }

    /** The server's spelling of each requested setting, or null if any of them has not been seen (probe needed). */
    public Map<String, String> spell(Map<String, String> requested) {
        if (loginParameters == null) {
            return null;
        }
        Map<String, String> spelled = new HashMap<>();
        for (Map.Entry<String, String> setting : requested.entrySet()) {
            String value = spellings.getOrDefault(setting.getKey(), Map.of()).get(setting.getValue());
            if (value == null) {
                return null;
            }
            spelled.put(setting.getKey(), value);
        }
        return spelled;
    }
}
