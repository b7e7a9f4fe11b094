package com.perseusproxy.core.secrets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Base64;
import java.util.concurrent.atomic.LongAdder;

/**
 * Decrypts Perseus's AWS KMS ciphertexts ({@code dest_pass_enc} = base64 of a CiphertextBlob), once per distinct
 * ciphertext: the plaintext is kept in memory ({@link DecryptionCache}), so KMS is called when a destination's
 * password is first needed (or changes), not per login. When KMS is unreachable, destinations already decrypted keep
 * working; a ciphertext whose decryption failed is tried again after a backoff (1 s, doubling up to 30 s), and until
 * then logins that need it fail at once with the remembered reason.
 *
 * <p>It recognises any {@code dest_pass_enc} that is valid base64 and not a local-key ciphertext
 * ({@code local:...}), so a table can mix both kinds. Calls block: this runs on the authenticator's lookup threads,
 * never on an event loop.
 */
public final class KmsDecryptor implements SecretDecryptor, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KmsDecryptor.class);

    private final KmsCipher cipher;
    private final DecryptionCache cache;
    private final LongAdder kmsCalls = new LongAdder();

    public KmsDecryptor(KmsCipher cipher) {
        this(cipher, new DecryptionCache());
    }

    KmsDecryptor(KmsCipher cipher, DecryptionCache cache) {
        this.cipher = cipher;
        this.cache = cache;
    }

    /** A decryptor with its own KMS client, closed by {@link #close()}. */
    public static KmsDecryptor connect(KmsSettings settings) {
        return new KmsDecryptor(KmsCipher.connect(settings));
    }

    @Override
    public boolean accepts(String ciphertext) {
        if (ciphertext == null || ciphertext.isBlank() || ciphertext.strip().startsWith(LocalKeyCipher.PREFIX)) {
            return false;
        }
        try {
            Base64.getDecoder().decode(ciphertext.strip());
            return true;
        } catch (IllegalArgumentException notBase64) {
            return false;
        }
    }

    @Override
    public String decrypt(String ciphertext) throws SecretDecryptionException {
        return cache.decrypt(ciphertext, this::callKms,
                fingerprint -> log.info("decrypted KMS ciphertext {} with {}; it is kept in memory, so KMS is not "
                        + "asked for it again", fingerprint, cipher.settings().keyArn()));
    }

    private String callKms(String ciphertext) throws SecretDecryptionException {
        kmsCalls.increment();
        return cipher.decrypt(ciphertext);
    }

    /** Decrypt calls made to KMS so far (for tests and diagnostics). */
    public long kmsCalls() {
        return kmsCalls.sum();
    }

    @Override
    public void close() {
        cipher.close();
    }

    @Override
    public String toString() {
        return "KmsDecryptor[" + cipher.settings() + "]";
    }
}
