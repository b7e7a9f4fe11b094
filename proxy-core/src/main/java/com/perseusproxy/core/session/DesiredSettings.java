package com.perseusproxy.core.session;

import com.perseusproxy.core.backend.SessionSettings;
import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.pool.ServerProfile;
import java.util.HashMap;
import java.util.Map;

/**
 * The tracked settings one client's session should have, in the server's spelling of their values: what each lease
 * makes true on the backend it gets ({@link com.perseusproxy.core.backend.BackendConnection#lease}). It holds every
 * tracked setting, so that a value another client left on a backend never stays for this one: a setting the client
 * never chose is {@link SessionSettings#SERVER_DEFAULT}. Lives on the client's event loop.
 */
final class DesiredSettings {

    private final Map<String, String> values = new HashMap<>();

    /**
     * At login: the client's startup settings over the server's defaults. Returns the ParameterStatus values to
     * report to the client, as PostgreSQL would: the server's parameters with the client's own reported settings.
     */
    Map<String, String> login(Map<String, String> serverParameters, Map<String, String> clientSettings,
                              TrackedSettings tracked) {
        Map<String, String> reported = new HashMap<>(serverParameters);
        for (String name : SessionSettings.TRACKED) {
            String value = clientSettings.getOrDefault(name, serverParameters.get(name));
            values.put(name, value != null ? value : SessionSettings.SERVER_DEFAULT);
            if (value != null && reported.containsKey(name)) {
                reported.put(name, value);
            }
        }
        for (String name : tracked.extra()) {
            values.put(name, clientSettings.getOrDefault(name, SessionSettings.SERVER_DEFAULT));
        }
        return reported;
    }

    /**
     * The server's spelling of the client's startup settings, as the login probe left them on its backend; records
     * each in {@code profile} (null: the probe failed, record nothing) so later logins need no probe.
     */
    static Map<String, String> spelledByProbe(Map<String, String> requested, Map<String, String> onProbe,
                                              ServerProfile profile) {
        Map<String, String> spelled = new HashMap<>();
        requested.forEach((name, value) -> {
            String spelling = onProbe.getOrDefault(name, value);
            spelled.put(name, spelling);
            if (profile != null) {
                profile.recordSpelling(name, value, spelling);
            }
        });
        return spelled;
    }

    /** What a lease applies. */
    Map<String, String> values() {
        return values;
    }

    /** A ParameterStatus caused by the client's own statement: its session changed, on every later backend too. */
    void reported(String name, String value) {
        if (SessionSettings.TRACKED.contains(name)) {
            values.put(name, value);
        }
    }

    /** Values the proxy asked the backend for after the client's own SET or RESET (see BackendConnection). */
    void learned(Map<String, String> learned) {
        learned.forEach((name, value) -> {
            if (values.containsKey(name)) {
                values.put(name, value);
            }
        });
    }
}
