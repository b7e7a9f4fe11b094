package com.perseusproxy.server.credentials;

import java.time.Duration;

/**
 * Where one backend's credentials come from: a command, an AWS Secrets Manager secret, RDS IAM tokens. Fetching
 * blocks (a process, an HTTPS call), so {@link CredentialSources} calls it only on its own executor threads.
 */
public interface CredentialProvider {

    /**
     * Fetches the credentials in force now.
     *
     * @throws CredentialFetchException with a message that names what to fix, never a secret
     */
    CredentialCommand.Issued fetch() throws CredentialFetchException;

    /**
     * After a refused login: credentials that may be about to become current (AWSPENDING during a rotation), tried
     * after the current ones. Blocking like {@link #fetch}; failures mean "none".
     */
    default java.util.List<com.perseusproxy.core.backend.BackendCredentials> alternatives() {
        return java.util.List.of();
    }

    /** The config's Kind: {@code command}, {@code secrets-manager} or {@code rds-iam} (for metrics and logs). */
    String kind();

    /** What is read, for logs: the program, the secret's id, the token's user. Never a secret. */
    String describe();

    /**
     * How often to read again in the background even though nothing expires (a secret may be rotated at any time);
     * {@code Duration.ZERO} = only when they expire, on SIGHUP and after a refused login.
     */
    default Duration refreshEvery() {
        return Duration.ZERO;
    }
}
