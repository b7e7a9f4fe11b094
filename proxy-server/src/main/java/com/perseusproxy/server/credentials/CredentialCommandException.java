package com.perseusproxy.server.credentials;

/** A credential command failed; the message names the program, never its output. */
public final class CredentialCommandException extends CredentialFetchException {
    public CredentialCommandException(String message) {
        super(message);
    }
}
