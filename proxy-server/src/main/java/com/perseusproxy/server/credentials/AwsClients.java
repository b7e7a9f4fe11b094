package com.perseusproxy.server.credentials;

import com.perseusproxy.server.config.AwsSettings;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClientBuilder;

/**
 * AWS clients for the credential sources, configured from {@code AWSSettings} exactly as KMS is: the endpoint
 * override, the region, static keys or the SDK's default credential chain (environment, profile, web identity on
 * EKS, container and instance roles), the JDK's HTTP client, and the same bounds on every call (10 s, 3 attempts of
 * 3 s), so a slow AWS never holds a rotation thread for long.
 */
final class AwsClients {

    static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(3);
    static final int MAX_ATTEMPTS = 3;

    private AwsClients() {
    }

    static AwsCredentialsProvider credentials(AwsSettings aws) {
        if (!aws.accessKeyId().isBlank()) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(aws.accessKeyId().strip(),
                    aws.secretAccessKey()));
        }
        return DefaultCredentialsProvider.builder().build();
    }

    /**
     * {@code override}, else {@code AWSSettings.Region}, else the SDK's region chain ({@code AWS_REGION}, profile).
     *
     * @throws IllegalArgumentException when none names a region
     */
    static Region region(String override, AwsSettings aws, String forWhat) {
        String region = !override.isBlank() ? override.strip() : aws.region().strip();
        if (!region.isEmpty()) {
            return Region.of(region);
        }
        try {
            return DefaultAwsRegionProviderChain.builder().build().getRegion();
        } catch (SdkClientException e) {
            throw new IllegalArgumentException("no AWS region for " + forWhat + ": set AWSSettings.Region (or the"
                    + " entry's Region), or AWS_REGION");
        }
    }

    static SecretsManagerClient secretsManager(AwsSettings aws) {
        SecretsManagerClientBuilder builder = SecretsManagerClient.builder()
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(ATTEMPT_TIMEOUT)
                        .socketTimeout(ATTEMPT_TIMEOUT))
                .credentialsProvider(credentials(aws))
                .region(region("", aws, "Secrets Manager"))
                .overrideConfiguration(o -> o
                        .apiCallTimeout(CALL_TIMEOUT)
                        .apiCallAttemptTimeout(ATTEMPT_TIMEOUT)
                        .retryStrategy(r -> r.maxAttempts(MAX_ATTEMPTS)));
        if (!aws.endpoint().isBlank()) {
            builder.endpointOverride(endpoint(aws.endpoint()));
        }
        return builder.build();
    }

    /** A host without a scheme gets {@code https://}, as for KMS (and Perseus's Go SDK). */
    static URI endpoint(String endpoint) {
        String text = endpoint.strip().contains("://") ? endpoint.strip() : "https://" + endpoint.strip();
        try {
            URI uri = new URI(text);
            if (uri.getHost() == null) {
                throw new URISyntaxException(text, "no host");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("AWSSettings.Endpoint \"" + endpoint + "\" is not a URL: write e.g."
                    + " http://127.0.0.1:4566");
        }
    }

    /** First line, bounded: SDK messages can list every credential provider tried. */
    static String oneLine(String text) {
        if (text == null) {
            return "";
        }
        String line = text.strip().lines().findFirst().orElse("");
        return line.length() > 300 ? line.substring(0, 300) + "..." : line;
    }
}
