package com.perseusproxy.core.secrets;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encrypts backend passwords with a {@link LocalKey} (AES-256-GCM) and decrypts them again. Ciphertext format:
 * <pre>
 *   local:v1:&lt;keyId&gt;:&lt;base64(12-byte nonce | ciphertext | 16-byte tag)&gt;
 * </pre>
 * The text is self-identifying: base64 never contains ':', and Perseus's KMS ciphertexts (plain base64) never start
 * with {@code local:}, so both kinds can live in one {@code perseus_auth} table. The header {@code local:v1:<keyId>}
 * is authenticated as associated data, so it cannot be altered to point a ciphertext at another key. Holding several
 * keys lets a rotation proceed row by row: new ciphertexts use the first key, old ones still decrypt.
 */
public final class LocalKeyCipher implements SecretDecryptor {

    public static final String PREFIX = "local:";
    static final String VERSION = "v1";
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final LocalKey current;
    private final Map<String, LocalKey> keysById = new LinkedHashMap<>();

    /** @param keys the current key first (used by {@link #encrypt}), then older keys that only decrypt */
    public LocalKeyCipher(List<LocalKey> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("a LocalKeyCipher needs at least one key");
        }
        this.current = keys.get(0);
        for (LocalKey key : keys) {
            keysById.putIfAbsent(key.keyId(), key);
        }
    }

    public LocalKeyCipher(LocalKey key) {
        this(List.of(key));
    }

    public String encrypt(String plaintext) {
        String header = PREFIX + VERSION + ":" + current.keyId();
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher cipher = cipher(Cipher.ENCRYPT_MODE, current, nonce, header);
            byte[] sealed = cipher.doFinal(plaintext.getBytes(StandardCharsets.UTF_8));
            byte[] out = ByteBuffer.allocate(NONCE_BYTES + sealed.length).put(nonce).put(sealed).array();
            return header + ":" + Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is unavailable in this Java runtime", e);
        }
    }

    @Override
    public boolean accepts(String ciphertext) {
        return ciphertext != null && ciphertext.strip().startsWith(PREFIX);
    }

    @Override
    public String decrypt(String ciphertext) throws SecretDecryptionException {
        String[] parts = ciphertext.strip().split(":", 4);
        if (parts.length != 4 || !parts[0].equals("local")) {
            throw new SecretDecryptionException("the local-key ciphertext is malformed (expected "
                    + "'local:v1:<keyId>:<base64>'): re-encrypt the password with 'perseus-tools encpass'");
        }
        if (!parts[1].equals(VERSION)) {
            throw new SecretDecryptionException("the local-key ciphertext has format version '" + parts[1]
                    + "', which this proxy does not know (it knows " + VERSION + "): upgrade the proxy or "
                    + "re-encrypt the password with this version's 'perseus-tools encpass'");
        }
        String keyId = parts[2];
        LocalKey key = keysById.get(keyId);
        if (key == null) {
            throw new SecretDecryptionException("the password was encrypted with local key " + keyId
                    + ", but the configured key file holds " + keysById.keySet() + ": point "
                    + "LocalKeySettings.KeyFile at a file that contains that key, or re-encrypt the password");
        }
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(parts[3]);
        } catch (IllegalArgumentException e) {
            throw new SecretDecryptionException("the local-key ciphertext's payload is not valid base64: "
                    + "re-encrypt the password with 'perseus-tools encpass'");
        }
        if (raw.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new SecretDecryptionException("the local-key ciphertext is truncated: re-encrypt the password "
                    + "with 'perseus-tools encpass'");
        }
        byte[] nonce = Arrays.copyOf(raw, NONCE_BYTES);
        try {
            Cipher cipher = cipher(Cipher.DECRYPT_MODE, key, nonce, parts[0] + ":" + parts[1] + ":" + keyId);
            byte[] plain = cipher.doFinal(raw, NONCE_BYTES, raw.length - NONCE_BYTES);
            return new String(plain, StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw new SecretDecryptionException("the local-key ciphertext does not authenticate under key "
                    + keyId + ": it was altered or truncated, or the key file was replaced by another key with the "
                    + "same id; re-encrypt the password with 'perseus-tools encpass'");
        } catch (GeneralSecurityException e) {
            throw new SecretDecryptionException("AES-GCM decryption failed in this Java runtime ("
                    + e.getClass().getSimpleName() + ")", e);
        }
    }

    /** Ids of the keys this cipher decrypts with, the current one first. */
    public List<String> keyIds() {
        return List.copyOf(keysById.keySet());
    }

    @Override
    public String toString() {
        return "LocalKeyCipher" + keysById.keySet();
    }

    private static Cipher cipher(int mode, LocalKey key, byte[] nonce, String header)
            throws GeneralSecurityException {
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(mode, new SecretKeySpec(key.material(), "AES"), new GCMParameterSpec(TAG_BITS, nonce));
        cipher.updateAAD(header.getBytes(StandardCharsets.US_ASCII));
        return cipher;
    }
}
