package com.perseusproxy.core.secrets;

/** A ciphertext could not be decrypted. The message names the reason, never the plaintext or the key. */
public class SecretDecryptionException extends Exception {
    public SecretDecryptionException(String message) {
        super(message);
    }

    public SecretDecryptionException(String message, Throwable cause) {
        super(message, cause);
    }
}
