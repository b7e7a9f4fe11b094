package com.perseusproxy.core.secrets;

/**
 * Turns a stored {@code dest_pass_enc} into the backend password. Implementations may block (KMS calls, file reads),
 * so they run on an executor, never on an event loop.
 */
public interface SecretDecryptor {

    /** Whether this decryptor recognises the ciphertext's format (formats are self-identifying). */
    boolean accepts(String ciphertext);

    /** @throws SecretDecryptionException with a message that never contains the secret */
    String decrypt(String ciphertext) throws SecretDecryptionException;
}
