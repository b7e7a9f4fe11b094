package com.perseusproxy.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SqlQuotingTest {

    private static final String HOSTILE_SCHEMA = "evil\"; drop table x; --";

    @Test
    void identifierIsDoubleQuoted() {
        assertEquals("\"tenant_a\"", SqlQuoting.identifier("tenant_a"));
    }

    @Test
    void identifierKeepsCaseAndSpaces() {
        assertEquals("\"My Schema\"", SqlQuoting.identifier("My Schema"));
    }

    @Test
    void identifierDoublesEmbeddedDoubleQuotes() {
        assertEquals("\"my\"\"schema\"", SqlQuoting.identifier("my\"schema"));
        assertEquals("\"\"\"\"\"\"", SqlQuoting.identifier("\"\""));
    }

    @Test
    void hostileIdentifierStaysOneIdentifier() {
        assertEquals("\"evil\"\"; drop table x; --\"", SqlQuoting.identifier(HOSTILE_SCHEMA));
    }

    @Test
    void identifierLeavesSingleQuotesAndBackslashesAlone() {
        assertEquals("\"o'brien\\x\"", SqlQuoting.identifier("o'brien\\x"));
    }

    @Test
    void identifierWithNulIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> SqlQuoting.identifier("a\0b"));
    }

    @Test
    void literalIsSingleQuoted() {
        assertEquals("'UTC'", SqlQuoting.literal("UTC"));
        assertEquals("''", SqlQuoting.literal(""));
    }

    @Test
    void literalDoublesEmbeddedSingleQuotes() {
        assertEquals("'o''brien'", SqlQuoting.literal("o'brien"));
        assertEquals("''';--'", SqlQuoting.literal("';--"));
    }

    @Test
    void literalLeavesDoubleQuotesAlone() {
        assertEquals("'" + HOSTILE_SCHEMA + "'", SqlQuoting.literal(HOSTILE_SCHEMA));
    }

    @Test
    void literalWithBackslashUsesEscapeStringFormWithBackslashesDoubled() {
        assertEquals("E'C:\\\\temp'", SqlQuoting.literal("C:\\temp"));
    }

    @Test
    void literalWithBackslashAndQuoteCannotEscapeTheQuote() {
        // \' must not become an escaped quote that ends the literal early: E'\\'' ...
        assertEquals("E'\\\\'';drop table x;--'", SqlQuoting.literal("\\';drop table x;--"));
    }

    @Test
    void literalWithNulIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> SqlQuoting.literal("a\0b"));
    }
}
