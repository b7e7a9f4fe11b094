package com.perseusproxy.core.session;

import com.perseusproxy.core.backend.SessionSettings;
import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.pool.ServerProfile;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The tracked settings one client's session should have, in the server's spelling of their values: what each lease
 * makes true on the backend it gets ({@link com.perseusproxy.core.backend.BackendConnection#lease}). It holds every
 * tracked setting, so that a value another client left on a backend never stays for this one: a setting the client
 * never chose is {@link SessionSettings#SERVER_DEFAULT}. Lives on the client's event loop.
 *
 * <p>The values are an immutable map, replaced when the client changes a setting, and clients with equal settings
 * share one instance: a backend remembers the map it was last found to hold, so a lease by any client with the same
 * settings sees by identity that there is nothing to set (ServerSessionState).
 */
final class DesiredSettings {

    /** Bounds the shared maps (settings such as application_name may differ per client); past it, no sharing. */
    static final int SHARED_LIMIT = 1024;
    private static final Map<Map<String, String>, Map<String, String>> SHARED = new ConcurrentHashMap<>();

    private Map<String, String> values = Map.of();

    /**
     * At login: the client's startup settings over the server's defaults. Returns the ParameterStatus values to
     * report to the client, as PostgreSQL would: the server's parameters with the client's own reported settings.
     */
    Map<String, String> login(Map<String, String> serverParameters, Map<String, String> clientSettings,
                              TrackedSettings tracked) {
        Map<String, String> reported = new HashMap<>(serverParameters);
        Map<String, String> chosen = new HashMap<>();
        for (String name : SessionSettings.TRACKED) {
            String value = clientSettings.getOrDefault(name, serverParameters.get(name));
            chosen.put(name, value != null ? value : SessionSettings.SERVER_DEFAULT);
            if (value != null && reported.containsKey(name)) {
                reported.put(name, value);
            }
        }
        for (String name : tracked.extra()) {
            chosen.put(name, clientSettings.getOrDefault(name, SessionSettings.SERVER_DEFAULT));
        }
        values = shared(chosen);
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

    /** What a lease applies (immutable; a change of the client's settings replaces it). */
    Map<String, String> values() {
        return values;
    }

    /** A ParameterStatus caused by the client's own statement: its session changed, on every later backend too. */
    void reported(String name, String value) {
        if (SessionSettings.TRACKED.contains(name) && !value.equals(values.get(name))) {
            Map<String, String> changed = new HashMap<>(values);
            changed.put(name, value);
            values = shared(changed);
        }
    }

    /** Values the proxy asked the backend for after the client's own SET or RESET (see BackendConnection). */
    void learned(Map<String, String> learned) {
        Map<String, String> changed = new HashMap<>(values);
        learned.forEach((name, value) -> {
            if (changed.containsKey(name)) {
                changed.put(name, value);
            }
        });
        if (!changed.equals(values)) {
            values = shared(changed);
        }
    }

    /** The one immutable instance of these settings, while fewer than {@link #SHARED_LIMIT} are known. */
    private static Map<String, String> shared(Map<String, String> settings) {
        Map<String, String> frozen = Collections.unmodifiableMap(settings);
        Map<String, String> known = SHARED.get(frozen);
        if (known != null) {
            return known;
        }
        if (SHARED.size() >= SHARED_LIMIT) {
            return frozen;
        }
        known = SHARED.putIfAbsent(frozen, frozen);
        return known != null ? known : frozen;
    }
}
