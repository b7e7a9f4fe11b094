package com.perseusproxy.core.statements;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BackendStatementsTest {

    private final BackendStatements statements = new BackendStatements();

    @Test
    void evictsTheLeastRecentlyUsedAtTheLimit() {
        assertEquals(List.of(), statements.add("a", 0, 2));
        assertEquals(List.of(), statements.add("b", 0, 2));
        assertTrue(statements.use("a", 0)); // b is now the least recently used
        assertEquals(List.of("b"), statements.add("c", 0, 2));
        assertEquals(List.of("a", "c"), statements.names());
        assertFalse(statements.use("b", 0));
    }

    @Test
    void aLoweredLimitEvictsSeveralAndZeroMeansOne() {
        for (String name : List.of("a", "b", "c", "d")) {
            statements.add(name, 0, 10);
        }
        assertEquals(List.of("a", "b", "c"), statements.add("e", 0, 2));
        assertEquals(List.of("d", "e"), statements.add("f", 0, 0));
        assertEquals(List.of("f"), statements.names());
    }

    @Test
    void reAddingANameEvictsNothingForIt() {
        statements.add("a", 0, 2);
        statements.add("b", 0, 2);
        assertEquals(List.of(), statements.add("a", 0, 2));
        assertEquals(List.of("b", "a"), statements.names());
    }

    @Test
    void aStatementPreparedAtAnotherVersionIsForgottenAtUse() {
        statements.add("a", 0, 5);
        assertTrue(statements.use("a", 0));
        assertFalse(statements.use("a", 1), "its plan went stale since it was prepared");
        assertFalse(statements.contains("a"));
    }

    @Test
    void restoreRemoveAndClear() {
        statements.add("a", 0, 5);
        statements.remove("a");
        assertFalse(statements.contains("a"));
        statements.restore("a");
        assertTrue(statements.contains("a"));
        assertFalse(statements.use("a", 0), "restored at an unknown version: prepared afresh");
        statements.restore("b");
        statements.clear();
        assertEquals(0, statements.size());
    }
}
