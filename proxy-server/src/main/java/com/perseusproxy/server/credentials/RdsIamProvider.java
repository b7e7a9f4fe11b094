package com.perseusproxy.server.credentials;

import com.perseusproxy.core.backend.BackendCredentials;
import java.time.Clock;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.rds.RdsUtilities;

/**
 * Kind {@code rds-iam}: RDS IAM authentication tokens used as the password of {@code User}. A token is a SigV4
 * presigned {@code connect} request for (region, host, port, user), signed locally by the AWS SDK's
 * {@link RdsUtilities} with the default credential chain or the configured keys; RDS accepts it for 15 minutes, so
 * it is given an expiry of 15 minutes and {@link CredentialSources} renews it 5 minutes ahead. Each token differs,
 * so a renewal is a password change: open connections keep their login, new ones use the new token.
 */
public final class RdsIamProvider implements CredentialProvider {

    /** How long RDS accepts a token (X-Amz-Expires=900 in every token the SDK signs). */
    public static final Duration TOKEN_LIFETIME = Duration.ofMinutes(15);

    /** Signs one token; the SDK in production, a fixed-clock signer in tests. */
    @FunctionalInterface
    public interface TokenSigner {
        String sign(String host, int port, String user);
    }

    private final TokenSigner signer;
    private final String host;
    private final int port;
    private final String user;
    private final Region region;
    private final Clock clock;

    public RdsIamProvider(TokenSigner signer, String host, int port, String user, Region region, Clock clock) {
        this.signer = signer;
        this.host = host;
        this.port = port;
        this.user = user;
        this.region = region;
        this.clock = clock;
    }

    /** The SDK's signer for a region and credentials. */
    public static TokenSigner sdkSigner(Region region, AwsCredentialsProvider credentials) {
        RdsUtilities utilities = RdsUtilities.builder().region(region).credentialsProvider(credentials).build();
        return (host, port, user) -> utilities.generateAuthenticationToken(r -> r.hostname(host).port(port)
                .username(user));
    }

    @Override
    public CredentialCommand.Issued fetch() throws CredentialFetchException {
        // The expiry is taken before signing: the token's own X-Amz-Date is at most this late.
        var expiresAt = clock.instant().plus(TOKEN_LIFETIME);
        String token;
        try {
            token = signer.sign(host, port, user);
        } catch (SdkException e) {
            // Typically no credentials in the chain: the message lists the providers tried, never a key.
            throw new CredentialFetchException("cannot sign an RDS IAM token: " + AwsClients.oneLine(e.getMessage())
                    + " (set AWSSettings.AccessKeyId/SecretAccessKey, or give the proxy an AWS identity)");
        }
        return new CredentialCommand.Issued(new BackendCredentials(user, token), expiresAt);
    }

    @Override
    public String kind() {
        return "rds-iam";
    }

    @Override
    public String describe() {
        return "IAM token for " + user + "@" + host + ":" + port + " in " + region;
    }
}
