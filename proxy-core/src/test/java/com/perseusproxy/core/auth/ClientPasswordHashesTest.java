package com.perseusproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ClientPasswordHashesTest {

    /** Cheap costs: these tests are about parsing and positions, not about scrypt. */
    private static String hash(String password) {
        return EasyScrypt.hash(password, 1024, 8, 1, 32);
    }

    @Test
    void singleHashReadsAsBefore() {
        ClientPasswordHashes hashes = ClientPasswordHashes.parse(hash("one"));
        assertTrue(hashes.anyUsable());
        assertEquals(1, hashes.match("one"));
        assertEquals(ClientPasswordHashes.NO_MATCH, hashes.match("two"));
    }

    @Test
    void anyOfSeveralHashesMatchesAndSaysWhichByPosition() {
        ClientPasswordHashes hashes = ClientPasswordHashes.parse(hash("old") + "," + hash("new"));
        assertEquals(2, hashes.usableCount());
        assertEquals(1, hashes.match("old"));
        assertEquals(2, hashes.match("new"));
        assertEquals(ClientPasswordHashes.NO_MATCH, hashes.match("neither"));
    }

    @Test
    void spacesAndStrayCommasAreTolerated() {
        ClientPasswordHashes hashes = ClientPasswordHashes.parse(" " + hash("a") + " ,, " + hash("b") + ",");
        assertEquals(2, hashes.usableCount());
        assertEquals(0, hashes.unusableCount());
        assertEquals(3, hashes.match("b"), "positions count the stored entries, empty ones included");
    }

    @Test
    void malformedEntriesAreSkippedButCounted() {
        ClientPasswordHashes hashes = ClientPasswordHashes.parse("garbage," + hash("good"));
        assertEquals(1, hashes.unusableCount());
        assertEquals(2, hashes.match("good"));
    }

    @Test
    void nothingUsableMeansNobodyLogsIn() {
        assertFalse(ClientPasswordHashes.parse(null).anyUsable());
        assertFalse(ClientPasswordHashes.parse("").anyUsable());
        assertFalse(ClientPasswordHashes.parse("not-a-hash,also-not").anyUsable());
    }
}
