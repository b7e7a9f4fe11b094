package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BackendStatementsTest {

    private final BackendStatements statements = new BackendStatements();

    @Test
    void evictsTheLeastRecentlyUsedAtTheLimit() {
        assertEquals(List.of(), statements.add("a", 2));
        assertEquals(List.of(), statements.add("b", 2));
        assertTrue(statements.use("a")); // b is now the least recently used
        assertEquals(List.of("b"), statements.add("c", 2));
        assertEquals(List.of("a", "c"), statements.names());
        assertFalse(statements.use("b"));
    }

    @Test
    void aLoweredLimitEvictsSeveralAndZeroMeansOne() {
        for (String name : List.of("a", "b", "c", "d")) {
            statements.add(name, 10);
        }
        assertEquals(List.of("a", "b", "c"), statements.add("e", 2));
        assertEquals(List.of("d", "e"), statements.add("f", 0));
        assertEquals(List.of("f"), statements.names());
    }

    @Test
    void reAddingANameEvictsNothingForIt() {
        statements.add("a", 2);
        statements.add("b", 2);
        assertEquals(List.of(), statements.add("a", 2));
        assertEquals(List.of("b", "a"), statements.names());
    }

    @Test
    void restoreRemoveAndClear() {
        statements.add("a", 5);
        statements.remove("a");
        assertFalse(statements.contains("a"));
        statements.restore("a");
        assertTrue(statements.contains("a"));
        statements.clear();
        assertEquals(0, statements.size());
    }
}
