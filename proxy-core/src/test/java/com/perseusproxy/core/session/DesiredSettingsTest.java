package com.perseusproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.perseusproxy.core.backend.SessionSettings;
import com.perseusproxy.core.backend.TrackedSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A client's desired settings are an immutable map that clients with equal settings share: the lease path compares
 * a backend's last-held map by identity (ServerSessionState), so sharing must never let one client's change reach
 * another, and a change must always be a new map.
 */
class DesiredSettingsTest {

    private static final Map<String, String> SERVER = Map.of("TimeZone", "UTC", "DateStyle", "ISO, MDY",
            "client_encoding", "UTF8");

    @Test
    void clientsWithEqualSettingsShareOneImmutableMap() {
        DesiredSettings alice = loggedIn(Map.of("application_name", "shared-test-app"));
        DesiredSettings bob = loggedIn(Map.of("application_name", "shared-test-app"));
        assertSame(alice.values(), bob.values());
        assertThrows(UnsupportedOperationException.class, () -> alice.values().put("TimeZone", "GMT"));
    }

    @Test
    void aClientsOwnChangeIsANewMapAndLeavesTheOthersAlone() {
        DesiredSettings alice = loggedIn(Map.of("application_name", "change-test-app"));
        DesiredSettings bob = loggedIn(Map.of("application_name", "change-test-app"));
        Map<String, String> before = alice.values();

        alice.reported("TimeZone", "Europe/Paris");
        assertNotSame(before, alice.values());
        assertEquals("Europe/Paris", alice.values().get("TimeZone"));
        assertEquals("UTC", bob.values().get("TimeZone"));
        assertSame(before, bob.values());

        Map<String, String> afterReport = alice.values();
        alice.learned(Map.of("statement_timeout", "5s"));
        assertNotSame(afterReport, alice.values());
        assertEquals("5s", alice.values().get("statement_timeout"));
        assertEquals(SessionSettings.SERVER_DEFAULT, bob.values().get("statement_timeout"));
    }

    @Test
    void anUnchangedValueKeepsTheMap() {
        DesiredSettings alice = loggedIn(Map.of("application_name", "same-test-app"));
        Map<String, String> before = alice.values();
        alice.reported("TimeZone", "UTC");
        alice.learned(Map.of("statement_timeout", SessionSettings.SERVER_DEFAULT));
        alice.reported("server_version", "15.0"); // not tracked
        assertSame(before, alice.values());
    }

    private static DesiredSettings loggedIn(Map<String, String> clientSettings) {
        DesiredSettings settings = new DesiredSettings();
        settings.login(SERVER, clientSettings, TrackedSettings.DEFAULT);
        return settings;
    }
}
