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
