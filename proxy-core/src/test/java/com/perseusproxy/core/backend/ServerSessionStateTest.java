package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The decision each lease makes about the tracked settings: send only what differs from what the backend session
 * holds, so a tenant whose clients all ask for the same values pays nothing after the first lease, and a client that
 * asked for nothing gets the server default back (RESET) instead of another client's value.
 */
class ServerSessionStateTest {

    private static final String DEFAULT = SessionSettings.SERVER_DEFAULT;

    private final ServerSessionState session = loggedIn();

    @Test
    void theSameValuesOnTheNextLeaseSendNothing() {
        Map<String, String> desired = desired("statement_timeout", "300", "TimeZone", "UTC");
        assertEquals("SET \"statement_timeout\" TO '300';", session.applySettings(desired, false));
        assertEquals("", session.applySettings(desired, false), "same values: nothing extra");
        assertEquals("", session.applySettings(desired("statement_timeout", "300", "TimeZone", "UTC"), false),
                "another client of the tenant with the same values: nothing either");
    }

    @Test
    void aClientThatNeverSetItGetsTheServerDefaultBack() {
        assertEquals("", session.applySettings(desired("statement_timeout", DEFAULT), false),
                "a fresh session is at the default already");
        session.applySettings(desired("statement_timeout", "300"), false);
        assertEquals("RESET \"statement_timeout\";", session.applySettings(desired("statement_timeout", DEFAULT),
                false));
        assertEquals("", session.applySettings(desired("statement_timeout", DEFAULT), false));
    }

    @Test
    void afterAResetTheSettingIsAppliedAgain() {
        Map<String, String> desired = desired("statement_timeout", "300");
        session.applySettings(desired, false);
        session.resetToLoginValues();
        assertEquals("SET \"statement_timeout\" TO '300';", session.applySettings(desired, false));
    }

    @Test
    void aLearnedValueCountsAsHeldAndForceSendsEverything() {
        session.learned("statement_timeout", "300ms");
        assertEquals("", session.applySettings(desired("statement_timeout", "300ms"), false));
        assertEquals("SET \"statement_timeout\" TO '300ms';", session.applySettings(
                desired("statement_timeout", "300ms"), true));
        session.learned("myext.unknown", null);
        assertEquals("", session.applySettings(desired("myext.unknown", DEFAULT), false),
                "a setting the server does not know is at its default");
    }

    @Test
    void reportedSettingsCompareWithWhatTheServerReported() {
        assertEquals("", session.applySettings(desired("TimeZone", "UTC"), false));
        assertEquals("SET \"TimeZone\" TO 'Europe/Paris';", session.applySettings(
                desired("TimeZone", "Europe/Paris"), false));
    }

    @Test
    void theSameMapIsComparedAgainOnceAnythingChangedTheSession() {
        // The lease path skips the comparison when it gets the very map the session was last found to hold; every
        // way the session's settings can change since must undo that, or a client would keep another's value.
        Map<String, String> desired = Map.copyOf(desired("statement_timeout", "300", "TimeZone", "UTC"));
        session.applySettings(desired, false);
        assertEquals("", session.applySettings(desired, false));

        session.observe("TimeZone", "Europe/Paris"); // the last client's own SET, reported by the server
        assertEquals("SET \"TimeZone\" TO 'UTC';", session.applySettings(desired, false));

        session.learned("statement_timeout", "5s"); // the last client's own SET of an unreported setting
        assertEquals("SET \"statement_timeout\" TO '300';", session.applySettings(desired, false));

        session.resetToLoginValues(); // RESET ALL: statement_timeout is back at the default
        assertEquals("SET \"statement_timeout\" TO '300';", session.applySettings(desired, false));

        session.markDirty(); // a SET failed: the values are in doubt
        session.takeResetNeeded();
        session.resetToLoginValues();
        assertEquals("SET \"statement_timeout\" TO '300';", session.applySettings(desired, false));

        assertEquals("SET \"statement_timeout\" TO '300';SET \"TimeZone\" TO 'UTC';",
                session.applySettings(desired("statement_timeout", "300", "TimeZone", "UTC"), true),
                "forced: every value is sent, memo or not");
        assertEquals("", session.applySettings(desired, false), "the forced values are held");
    }

    private static ServerSessionState loggedIn() {
        ServerSessionState state = new ServerSessionState();
        state.loginParameters().put("TimeZone", "UTC");
        state.loginParameters().put("server_version", "14.0");
        state.loggedIn();
        return state;
    }

    private static Map<String, String> desired(String... namesAndValues) {
        Map<String, String> desired = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            desired.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return desired;
    }
}
