package com.perseusproxy.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The SCRAM verifier an unknown login is challenged with, so that its exchange looks like a real tenant's to the
 * end: PostgreSQL's answer for a role that does not exist (its {@code scram_mock_salt}). The salt is a hash of a
 * per-process secret and the login's name, so repeated attempts for one name see the same salt, as they would for a
 * real row, and different names see different salts; without the secret nobody can tell it from a real one. The
 * keys are random, so no proof ever matches, and the exchange ends with the same 28P01 as a wrong password.
 */
public final class MockScram {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] secret = new byte[32];
    private final byte[] storedKey = new byte[32];
    private final byte[] serverKey = new byte[32];

    public MockScram() {
        RANDOM.nextBytes(secret);
        RANDOM.nextBytes(storedKey);
        RANDOM.nextBytes(serverKey);
    }

    /** The verifier for this name; costs one SHA-256, so it may run anywhere. */
    public ScramVerifier verifierFor(String database, String schema, String user) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        sha256.update(secret);
        for (String part : new String[] {database, schema, user}) {
            // A NUL between the parts, so ("ab", "c") and ("a", "bc") get different salts.
            sha256.update(String.valueOf(part).getBytes(StandardCharsets.UTF_8));
            sha256.update((byte) 0);
        }
        // 16 bytes, the salt length genhash and PostgreSQL use; iterations as they do by default.
        byte[] salt = Arrays.copyOf(sha256.digest(), 16);
        return new ScramVerifier(ScramVerifier.DEFAULT_ITERATIONS, salt, storedKey, serverKey);
    }
}
