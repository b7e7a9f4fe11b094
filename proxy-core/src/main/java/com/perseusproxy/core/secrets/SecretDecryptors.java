package com.perseusproxy.core.secrets;

import java.util.Base64;
import java.util.List;

/**
 * All configured decryptors behind one {@link SecretDecryptor}: each ciphertext goes to the first that recognises
 * its format, so local-key and KMS ciphertexts can coexist in one table (e.g. during a migration).
 */
public final class SecretDecryptors implements SecretDecryptor {

    private final List<SecretDecryptor> decryptors;

    public SecretDecryptors(List<? extends SecretDecryptor> decryptors) {
        this.decryptors = List.copyOf(decryptors);
    }

    @Override
    public boolean accepts(String ciphertext) {
        return decryptors.stream().anyMatch(d -> d.accepts(ciphertext));
    }

    @Override
    public String decrypt(String ciphertext) throws SecretDecryptionException {
        if (ciphertext == null || ciphertext.isBlank()) {
            throw new SecretDecryptionException("dest_pass_enc is empty: store the encrypted backend password "
                    + "(made with 'perseus-tools encpass')");
        }
        for (SecretDecryptor decryptor : decryptors) {
            if (decryptor.accepts(ciphertext)) {
                return decryptor.decrypt(ciphertext);
            }
        }
        if (ciphertext.strip().startsWith(LocalKeyCipher.PREFIX)) {
            throw new SecretDecryptionException("dest_pass_enc was encrypted with a local key, but no local key is "
                    + "configured: set LocalKeySettings.KeyFile to the key file that encrypted it");
        }
        if (!isBase64(ciphertext.strip())) {
            throw new SecretDecryptionException("dest_pass_enc is neither a local-key ciphertext (local:v1:...) nor "
                    + "base64 (an AWS KMS ciphertext): store the output of 'perseus-tools encpass'");
        }
        throw new SecretDecryptionException("dest_pass_enc looks like an AWS KMS ciphertext, but KMS decryption is "
                + "not configured: set AWSSettings.KMSKeyARN (with Region and credentials)");
    }

    private static boolean isBase64(String text) {
        try {
            Base64.getDecoder().decode(text);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return "SecretDecryptors" + decryptors;
    }
}
