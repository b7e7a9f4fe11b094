package com.perseusproxy.core.secrets;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kms.KmsClient;
import software.amazon.awssdk.services.kms.KmsClientBuilder;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Objects;

/**
 * How to reach the AWS KMS key that encrypts {@code dest_pass_enc}: Perseus's {@code AWSSettings} (and encpass's
 * flags), plus the bounds this product puts on every call. Blank strings mean "not set".
 * {@link #toString()} masks the secret access key.
 *
 * @param keyArn          the key (Perseus's {@code KMSKeyARN}); also passed as KeyId on Decrypt, as Perseus does
 * @param region          e.g. {@code us-east-1}; blank = the region named in {@code keyArn}, else the SDK's default
 *                        region chain ({@code AWS_REGION}, profile)
 * @param endpoint        an endpoint override (VPC endpoint, a KMS-compatible server); blank = AWS's own. A host
 *                        without a scheme gets {@code https://}, as Perseus's Go SDK does.
 * @param accessKeyId     static credentials when both this and {@code secretAccessKey} are set; both blank = the SDK's
 *                        default credential chain (environment, profile, web identity, container and instance roles)
 * @param callTimeout     bound on one Encrypt/Decrypt including retries
 * @param attemptTimeout  bound on one HTTP attempt
 * @param maxAttempts     attempts per call (the SDK's standard retry strategy, with jittered backoff between them)
 */
public record KmsSettings(String keyArn, String region, String endpoint, String accessKeyId, String secretAccessKey,
                          Duration callTimeout, Duration attemptTimeout, int maxAttempts) {

    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(3);
    public static final int DEFAULT_MAX_ATTEMPTS = 3;

    public KmsSettings {
        keyArn = blankToEmpty(keyArn);
        region = blankToEmpty(region);
        endpoint = blankToEmpty(endpoint);
        accessKeyId = blankToEmpty(accessKeyId);
        secretAccessKey = secretAccessKey == null ? "" : secretAccessKey;
        Objects.requireNonNull(callTimeout, "callTimeout");
        Objects.requireNonNull(attemptTimeout, "attemptTimeout");
        if (keyArn.isEmpty()) {
            throw new IllegalArgumentException("no KMS key given: set AWSSettings.KMSKeyARN (or encpass -key_arn) to "
                    + "the ARN of the key that encrypts the backend passwords");
        }
        if (accessKeyId.isEmpty() != secretAccessKey.isEmpty()) {
            throw new IllegalArgumentException("only one of AccessKeyId and SecretAccessKey is set: set both for "
                    + "static credentials, or leave both empty to use the AWS SDK's default credential chain");
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1");
        }
        if (!endpoint.isEmpty()) {
            endpointUri(endpoint); // a bad endpoint is a configuration error, reported before any call
        }
    }

    /** Perseus's settings with this product's default call bounds. */
    public static KmsSettings of(String keyArn, String region, String endpoint, String accessKeyId,
                                 String secretAccessKey) {
        return new KmsSettings(keyArn, region, endpoint, accessKeyId, secretAccessKey, DEFAULT_CALL_TIMEOUT,
                DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_MAX_ATTEMPTS);
    }

    public boolean staticCredentials() {
        return !accessKeyId.isEmpty();
    }

    /**
     * The region calls go to: {@link #region()}, else the one in the key's ARN
     * ({@code arn:aws:kms:<region>:<account>:key/<id>}), else empty (the SDK's chain decides).
     */
    public String effectiveRegion() {
        if (!region.isEmpty()) {
            return region;
        }
        String[] arn = keyArn.split(":", 6);
        return arn.length == 6 && arn[0].equals("arn") && arn[2].equals("kms") ? arn[3] : "";
    }

    /** Where calls go, for messages: the endpoint override, else the region. */
    public String describeTarget() {
        if (!endpoint.isEmpty()) {
            return "endpoint " + endpoint;
        }
        String effective = effectiveRegion();
        return effective.isEmpty() ? "the default AWS region" : "region " + effective;
    }

    /**
     * A client for these settings. Building it contacts nobody; the first call resolves credentials.
     *
     * @throws IllegalArgumentException when no region can be found
     */
    public KmsClient newClient() {
        KmsClientBuilder builder = KmsClient.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(attemptTimeout)
                        .socketTimeout(attemptTimeout))
                .credentialsProvider(credentialsProvider())
                .overrideConfiguration(o -> o
                        .apiCallTimeout(callTimeout)
                        .apiCallAttemptTimeout(attemptTimeout)
                        .retryStrategy(r -> r.maxAttempts(maxAttempts)));
        String effective = effectiveRegion();
        if (!effective.isEmpty()) {
            builder.region(Region.of(effective));
        }
        if (!endpoint.isEmpty()) {
            builder.endpointOverride(endpointUri(endpoint));
        }
        try {
            return builder.build();
        } catch (SdkClientException e) {
            throw new IllegalArgumentException("cannot set up the AWS KMS client: " + e.getMessage() + " (set "
                    + "AWSSettings.Region, or encpass -region, e.g. us-east-1)", e);
        }
    }

    private AwsCredentialsProvider credentialsProvider() {
        if (staticCredentials()) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKeyId, secretAccessKey));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    private static URI endpointUri(String endpoint) {
        String text = endpoint.contains("://") ? endpoint : "https://" + endpoint;
        try {
            URI uri = new URI(text);
            if (uri.getHost() == null) {
                throw new URISyntaxException(text, "no host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("the KMS endpoint \"" + endpoint + "\" is not a URL: write e.g. "
                    + "https://kms.us-east-1.amazonaws.com or http://127.0.0.1:4566 (AWSSettings.Endpoint, encpass "
                    + "-endpoint)");
        }
    }

    private static String blankToEmpty(String value) {
        return value == null ? "" : value.strip();
    }

    @Override
    public String toString() {
        return "KmsSettings[keyArn=" + keyArn + ", " + describeTarget() + ", credentials="
                + (staticCredentials() ? "static " + accessKeyId + "/*****" : "default chain")
                + ", callTimeout=" + callTimeout + ", attempts=" + maxAttempts + "]";
    }
}
