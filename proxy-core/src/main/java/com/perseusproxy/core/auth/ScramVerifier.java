package com.perseusproxy.core.auth;

import com.ongres.scram.common.ScramFunctions;
import com.ongres.scram.common.ScramMechanism;
import com.ongres.scram.common.StringPreparation;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL-format SCRAM-SHA-256 verifier, {@code SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>}
 * (what {@code pg_authid.rolpassword} holds), as one entry of {@code source_pass_hashed}. It lets a client prove it
 * knows the password without sending it. {@link #toString()} never shows the keys.
 */
public record ScramVerifier(int iterations, byte[] salt, byte[] storedKey, byte[] serverKey) {

    /** PostgreSQL's default scram_iterations. */
    public static final int DEFAULT_ITERATIONS = 4096;
    static final ScramMechanism MECHANISM = ScramMechanism.SCRAM_SHA_256;
    /** SASLprep as PostgreSQL applies it (a password that is not valid UTF-8 or fails SASLprep is used as is). */
    static final StringPreparation PREPARATION = StringPreparation.POSTGRESQL_PREPARATION;

    private static final Pattern FORMAT = Pattern.compile(
            "SCRAM-SHA-256\\$(\\d{1,9}):([A-Za-z0-9+/=]+)\\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)");
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Whether this entry of source_pass_hashed looks like a verifier (it may still fail to parse). */
    public static boolean looksLikeVerifier(String entry) {
        return entry != null && entry.startsWith("SCRAM-SHA-256$");
    }

    public static Optional<ScramVerifier> parse(String text) {
        Matcher m = FORMAT.matcher(text.strip());
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            int iterations = Integer.parseInt(m.group(1));
            byte[] salt = Base64.getDecoder().decode(m.group(2));
            byte[] stored = Base64.getDecoder().decode(m.group(3));
            byte[] server = Base64.getDecoder().decode(m.group(4));
            if (iterations < 1 || salt.length == 0 || stored.length != 32 || server.length != 32) {
                return Optional.empty();
            }
            return Optional.of(new ScramVerifier(iterations, salt, stored, server));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    /**
     * A new verifier, as PostgreSQL's {@code ALTER ROLE ... PASSWORD} makes one. Costs {@code iterations} rounds of
     * PBKDF2: run it off any event loop.
     *
     * @param salt null for a fresh random 16-byte salt; an existing verifier's salt lets the two be checked in one
     *             exchange during a rotation (SCRAM sends the client one salt)
     */
    public static ScramVerifier create(String password, int iterations, byte[] salt) {
        byte[] s = salt != null ? salt : ScramFunctions.salt(16, RANDOM);
        byte[] salted = ScramFunctions.saltedPassword(MECHANISM, PREPARATION, password.toCharArray(), s, iterations);
        byte[] clientKey = ScramFunctions.clientKey(MECHANISM, salted);
        return new ScramVerifier(iterations, s, ScramFunctions.storedKey(MECHANISM, clientKey),
                ScramFunctions.serverKey(MECHANISM, salted));
    }

    /**
     * The verifiers of a comma list (source_pass_hashed, AdminSettings) that one exchange checks: the first and those
     * sharing its salt and iteration count; empty if the list holds none (then the password is asked in cleartext).
     */
    public static java.util.List<ScramVerifier> exchangeable(String hashes) {
        return java.util.List.copyOf(ClientPasswordHashes.verifiers(hashes).keySet());
    }

    /** Whether the two can be checked in one exchange: same salt and iteration count. */
    boolean sameSalt(ScramVerifier other) {
        return iterations == other.iterations && Arrays.equals(salt, other.salt);
    }

    /** The text to store in source_pass_hashed. */
    public String encode() {
        Base64.Encoder b64 = Base64.getEncoder();
        return "SCRAM-SHA-256$" + iterations + ":" + b64.encodeToString(salt) + "$" + b64.encodeToString(storedKey)
                + ":" + b64.encodeToString(serverKey);
    }

    @Override
    public String toString() {
        return "ScramVerifier[iterations=" + iterations + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ScramVerifier v && iterations == v.iterations && Arrays.equals(salt, v.salt)
                && Arrays.equals(storedKey, v.storedKey) && Arrays.equals(serverKey, v.serverKey);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(storedKey);
    }
}
