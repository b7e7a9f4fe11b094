package com.perseusproxy.core.secrets;

/** A password could not be encrypted. The message names the reason, never the password. */
public class SecretEncryptionException extends Exception {
    public SecretEncryptionException(String message, Throwable cause) {
        super(message, cause);
    }
}
