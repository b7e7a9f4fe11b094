package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ScramKeysTest {

    @Test
    void derivesOffTheCallerOnceAndThenFromTheCache() throws Exception {
        BackendCredentials credentials = new BackendCredentials("app", "backend-pw-" + System.nanoTime());
        byte[] salt = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
        long before = ScramKeys.derivations();
        String[] thread = new String[1];
        ScramKeys.Keys first = ScramKeys.of(credentials, salt, 4096)
                .whenComplete((k, e) -> thread[0] = Thread.currentThread().getName()).get(10, TimeUnit.SECONDS);
        assertTrue(thread[0].startsWith("perseus-scram-") || thread[0].equals(Thread.currentThread().getName()));
        ScramKeys.Keys second = ScramKeys.of(credentials, salt, 4096).get(10, TimeUnit.SECONDS);
        assertEquals(before + 1, ScramKeys.derivations());
        assertArrayEquals(first.clientKey(), second.clientKey());

        // Another salt, iteration count or password is another derivation.
        ScramKeys.of(credentials, salt, 4097).get(10, TimeUnit.SECONDS);
        ScramKeys.of(new BackendCredentials("app", credentials.password() + "x"), salt, 4096).get(10, TimeUnit.SECONDS);
        assertEquals(before + 3, ScramKeys.derivations());
    }
}
