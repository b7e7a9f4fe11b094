package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DestinationTest {

    @Test
    void hostAloneUsesTheDefaultPort() {
        assertEquals(new Destination("db.internal", 5432, "appdb", "app"), of("db.internal"));
    }

    @Test
    void hostWithPort() {
        assertEquals(new Destination("db.internal", 6432, "appdb", "app"), of("db.internal:6432"));
    }

    @Test
    void surroundingWhitespaceIsTrimmed() {
        assertEquals(new Destination("db.internal", 6432, "appdb", "app"), of("  db.internal:6432 "));
    }

    @Test
    void bracketedIpv6WithPort() {
        assertEquals(new Destination("::1", 5433, "appdb", "app"), of("[::1]:5433"));
    }

    @Test
    void bracketedIpv6WithoutPort() {
        assertEquals(new Destination("::1", 5432, "appdb", "app"), of("[::1]"));
    }

    @Test
    void bareIpv6HasNoPort() {
        assertEquals(new Destination("fe80::1", 5432, "appdb", "app"), of("fe80::1"));
    }

    @Test
    void portBounds() {
        assertEquals(1, of("h:1").port());
        assertEquals(65535, of("h:65535").port());
    }

    @ParameterizedTest
    @ValueSource(strings = {"host:", "host:abc", "host:0", "host:65536", "host:-1", "host:5432x", "[::1]:",
        "[::1]:x"})
    void badPortIsRejectedNamingTheValue(String destHost) {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> of(destHost));
        assertTrue(error.getMessage().contains("invalid port"), error.getMessage());
        assertTrue(error.getMessage().contains(destHost), error.getMessage());
    }

    @Test
    void textAfterTheClosingBracketMustBeAPort() {
        // Not silently the default port: "[::1]5433" is a typo for "[::1]:5433".
        assertThrows(IllegalArgumentException.class, () -> of("[::1]5433"));
    }

    @Test
    void unclosedBracketIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> of("[::1:5433"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", ":5432", "[]:5432"})
    void emptyHostIsRejected(String destHost) {
        assertThrows(IllegalArgumentException.class, () -> of(destHost));
    }

    @Test
    void toStringNamesUserHostPortAndDatabase() {
        assertEquals("app@db.internal:6432/appdb", of("db.internal:6432").toString());
    }

    private static Destination of(String destHost) {
        return Destination.of(destHost, "appdb", "app");
    }
}
