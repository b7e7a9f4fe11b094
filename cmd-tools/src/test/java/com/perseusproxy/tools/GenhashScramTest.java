package com.perseusproxy.tools;

import static com.perseusproxy.tools.PerseusToolsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.auth.ScramVerifier;
import org.junit.jupiter.api.Test;

/** genhash -scram writes PostgreSQL-format SCRAM-SHA-256 verifiers; -salt_of keeps a rotation's salt. */
class GenhashScramTest {

    @Test
    void writesAVerifierPostgresqlWouldAccept() {
        PerseusToolsTest.Result r = run("s3cret\n", "genhash", "-scram");
        assertEquals(0, r.status(), r.toString());
        String verifier = r.out().strip();
        assertTrue(verifier.matches("SCRAM-SHA-256\\$4096:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+"), verifier);
        ScramVerifier parsed = ScramVerifier.parse(verifier).orElseThrow();
        assertEquals(verifier, ScramVerifier.create("s3cret", 4096, parsed.salt()).encode(),
                "the same password and salt give the same keys");
        assertFalse(verifier.contains("s3cret"));
    }

    @Test
    void saltOfReusesTheSaltSoBothVerifiersWorkInOneExchange() {
        String old = run("", "genhash", "-scram", "-password", "old-pw").out().strip();
        String next = run("", "genhash", "-scram", "-salt_of", old, "-password", "new-pw").out().strip();
        ScramVerifier a = ScramVerifier.parse(old).orElseThrow();
        ScramVerifier b = ScramVerifier.parse(next).orElseThrow();
        assertTrue(java.util.Arrays.equals(a.salt(), b.salt()));
        assertEquals(2, ScramVerifier.exchangeable(old + "," + next).size());
        assertEquals(2, run("", "genhash", "-salt_of", old, "-password", "x").status(), "-salt_of needs -scram");
    }
}
