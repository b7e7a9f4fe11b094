package com.perseusproxy.core.statements;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class KnownStatementsTest {

    private final KnownStatements known = new KnownStatements();

    @Test
    void parsedStatementsAreKnownAndVersionsRiseOnInvalidation() {
        assertFalse(known.isKnown("perseus_a"));
        assertEquals(0, known.version("perseus_a"));
        known.parsed("perseus_a");
        assertTrue(known.isKnown("perseus_a"));
        known.invalidate("perseus_a");
        known.parsed("perseus_a"); // parsed again afresh: the version stays
        assertEquals(1, known.version("perseus_a"));
    }

    @Test
    void boundedLeastRecentlyUsedFirst() {
        for (int i = 0; i <= KnownStatements.CAPACITY; i++) {
            known.parsed("perseus_" + i);
            if (i == 0) {
                continue;
            }
            known.isKnown("perseus_0"); // kept in use
        }
        assertEquals(KnownStatements.CAPACITY, known.size());
        assertTrue(known.isKnown("perseus_0"));
        assertFalse(known.isKnown("perseus_1"));
    }
}
