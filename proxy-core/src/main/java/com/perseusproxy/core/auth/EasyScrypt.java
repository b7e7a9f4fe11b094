package com.perseusproxy.core.auth;

import com.lambdaworks.crypto.SCrypt;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;

/**
 * The password-hash format of {@code perseus_auth.source_pass_hashed}, as written by Go's {@code agnivade/easy-scrypt}
 * (which Perseus's {@code genhash} uses): base64 (standard alphabet, padded) of
 * <pre>
 *   key (keylen) | salt (16) | N (int32 LE) | r (int32 LE) | p (int32 LE) | SHA-256 of all preceding bytes (32)
 * </pre>
 * keylen is the decoded length minus 60. N, r and p are read from each hash, so hashes made with other costs verify
 * too; costs that would need more than {@link #MAX_MEMORY_BYTES} are refused, because a stored row must not be able to
 * exhaust the proxy's heap.
 */
public final class EasyScrypt {

    public static final int DEFAULT_N = 16384;
    public static final int DEFAULT_R = 8;
    public static final int DEFAULT_P = 1;
    public static final int DEFAULT_KEY_LENGTH = 32;

    static final int SALT_LENGTH = 16;
    static final int DIGEST_LENGTH = 32;
    /** Salt, the three parameters and the digest: everything but the key. */
    static final int OVERHEAD = SALT_LENGTH + 3 * Integer.BYTES + DIGEST_LENGTH;
    /** scrypt needs about 128·r·N + 128·r·p bytes; 1 GiB is far above any sane cost and far below a fatal one. */
    static final long MAX_MEMORY_BYTES = 1L << 30;
    /** Keys longer than this are not password hashes but mistakes; refusing them bounds the work of one check. */
    static final int MAX_KEY_LENGTH = 1024;

    private static final SecureRandom RANDOM = new SecureRandom();

    private EasyScrypt() {
    }

    /** Hashes with Perseus's parameters (N=16384, r=8, p=1, 32-byte key). */
    public static String hash(String password) {
        return hash(password, DEFAULT_N, DEFAULT_R, DEFAULT_P, DEFAULT_KEY_LENGTH);
    }

    /** Hashes with explicit costs; throws IllegalArgumentException for costs {@link #verify} would refuse. */
    public static String hash(String password, int n, int r, int p, int keyLength) {
        if (!acceptableCost(n, r, p) || keyLength < 1 || keyLength > MAX_KEY_LENGTH) {
            throw new IllegalArgumentException("scrypt parameters N=" + n + " r=" + r + " p=" + p + " keylen="
                    + keyLength + " are not allowed: N must be a power of two > 1, r and p >= 1, memory <= 1 GiB, "
                    + "keylen 1.." + MAX_KEY_LENGTH);
        }
        byte[] salt = new byte[SALT_LENGTH];
        RANDOM.nextBytes(salt);
        byte[] key = derive(password, salt, n, r, p, keyLength);
        ByteBuffer out = ByteBuffer.allocate(keyLength + OVERHEAD).order(ByteOrder.LITTLE_ENDIAN);
        out.put(key).put(salt).putInt(n).putInt(r).putInt(p);
        out.put(sha256(out.array(), out.position()));
        return Base64.getEncoder().encodeToString(out.array());
    }

    /**
     * @return whether the password matches; false (never an exception) for any malformed or unacceptable hash
     */
    public static boolean verify(String password, String encoded) {
        Optional<Parsed> parsed = parse(encoded);
        if (parsed.isEmpty() || password == null) {
            return false;
        }
        Parsed hash = parsed.get();
        byte[] candidate = derive(password, hash.salt, hash.n, hash.r, hash.p, hash.key.length);
        return MessageDigest.isEqual(candidate, hash.key);
    }

    /** Whether {@code encoded} is a hash {@link #verify} can check (so a failed verify means a wrong password). */
    public static boolean isWellFormed(String encoded) {
        return parse(encoded).isPresent();
    }

    /**
     * A valid hash of a random password nobody knows, with Perseus's costs. Verifying against it costs what a real
     * check costs, so a login for an unknown tenant takes as long as one with a wrong password.
     */
    public static String dummyHash() {
        return DummyHolder.HASH;
    }

    private static final class DummyHolder {
        static final String HASH;

        static {
            byte[] secret = new byte[24];
            RANDOM.nextBytes(secret);
            HASH = hash(Base64.getEncoder().encodeToString(secret));
        }
    }

    private record Parsed(byte[] key, byte[] salt, int n, int r, int p) {
    }

    private static Optional<Parsed> parse(String encoded) {
        if (encoded == null) {
            return Optional.empty();
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(encoded.strip());
        } catch (IllegalArgumentException notBase64) {
            return Optional.empty();
        }
        int keyLength = raw.length - OVERHEAD;
        if (keyLength < 1 || keyLength > MAX_KEY_LENGTH) {
            return Optional.empty();
        }
        int digestAt = raw.length - DIGEST_LENGTH;
        if (!MessageDigest.isEqual(sha256(raw, digestAt), Arrays.copyOfRange(raw, digestAt, raw.length))) {
            return Optional.empty();
        }
        ByteBuffer in = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        byte[] key = new byte[keyLength];
        byte[] salt = new byte[SALT_LENGTH];
        in.get(key).get(salt);
        int n = in.getInt();
        int r = in.getInt();
        int p = in.getInt();
        if (!acceptableCost(n, r, p)) {
            return Optional.empty();
        }
        return Optional.of(new Parsed(key, salt, n, r, p));
    }

    static boolean acceptableCost(int n, int r, int p) {
        if (n < 2 || Integer.bitCount(n) != 1 || r < 1 || p < 1) {
            return false;
        }
        long memory = 128L * r * n + 128L * r * p;
        return memory <= MAX_MEMORY_BYTES && (long) r * p < (1L << 30);
    }

    private static byte[] derive(String password, byte[] salt, int n, int r, int p, int keyLength) {
        try {
            return SCrypt.scrypt(password.getBytes(StandardCharsets.UTF_8), salt, n, r, p, keyLength);
        } catch (GeneralSecurityException e) {
            // Only HmacSHA256 missing from the JRE gets here: a broken runtime, not a bad hash.
            throw new IllegalStateException("scrypt is unavailable in this Java runtime", e);
        }
    }

    private static byte[] sha256(byte[] data, int length) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(data, 0, length);
            return sha.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable in this Java runtime", e);
        }
    }
}
