package com.perseusproxy.server.credentials;

/** A credential source could not give credentials; the message says what to fix and never holds a secret. */
public class CredentialFetchException extends Exception {
    public CredentialFetchException(String message) {
        super(message);
    }
}
