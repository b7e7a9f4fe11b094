package com.perseusproxy.server.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.backend.BackendCredentials;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.model.DecryptionFailureException;
import software.amazon.awssdk.services.secretsmanager.model.GetSecretValueResponse;
import software.amazon.awssdk.services.secretsmanager.model.ResourceNotFoundException;

/**
 * Kind {@code secrets-manager}: the {@code username} and {@code password} of an AWS Secrets Manager secret in AWS's own
 * database-secret format (what its RDS rotation functions write; other keys such as host and engine are ignored).
 * With alternating-users rotation the secret's {@code username} changes between two roles at each rotation, which the
 * proxy handles as an account switch; with single-user rotation only {@code password} changes.
 */
public final class SecretsManagerProvider implements CredentialProvider {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final SecretsManagerClient client;
    private final String secretId;
    private final String versionStage;
    private final Duration refresh;

    public SecretsManagerProvider(SecretsManagerClient client, String secretId, String versionStage,
                                  Duration refresh) {
        this.client = client;
        this.secretId = secretId;
        this.versionStage = versionStage;
        this.refresh = refresh;
    }

    @Override
    public CredentialCommand.Issued fetch() throws CredentialFetchException {
        return read(versionStage);
    }

    /**
     * AWSPENDING while the secret is being rotated: single-user rotation changes the role's password (setSecret)
     * before AWSCURRENT moves (finishSecret), and in between only the pending version logs in.
     */
    @Override
    public List<BackendCredentials> alternatives() {
        if (!versionStage.equals("AWSCURRENT")) {
            return List.of();
        }
        try {
            return List.of(read("AWSPENDING").credentials());
        } catch (CredentialFetchException e) {
            return List.of(); // usually no rotation in progress (ResourceNotFoundException)
        }
    }

    private CredentialCommand.Issued read(String stage) throws CredentialFetchException {
        GetSecretValueResponse response;
        try {
            response = client.getSecretValue(r -> r.secretId(secretId).versionStage(stage));
        } catch (SdkException e) {
            throw new CredentialFetchException("GetSecretValue failed: " + explain(e));
        }
        String text = response.secretString();
        if (text == null) {
            throw new CredentialFetchException("the secret has no SecretString (a binary secret?): store the JSON"
                    + " {\"username\": ..., \"password\": ...}");
        }
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (IOException e) {
            // Jackson's message may quote the secret: say what, not where.
            throw new CredentialFetchException("the secret's value is not JSON: store AWS's database-secret format"
                    + " {\"username\": ..., \"password\": ...}");
        }
        if (root == null || !root.path("username").isTextual() || !root.path("password").isTextual()
                || root.path("username").asText().isBlank()) {
            throw new CredentialFetchException("the secret's JSON lacks the string keys \"username\" and"
                    + " \"password\" (AWS's database-secret format)");
        }
        return new CredentialCommand.Issued(new BackendCredentials(root.get("username").asText(),
                root.get("password").asText()), null);
    }

    private String explain(SdkException e) {
        if (e instanceof ResourceNotFoundException) {
            return "no secret " + secretId + " with version stage " + versionStage + " (ResourceNotFoundException):"
                    + " check SecretId, VersionStage and AWSSettings.Region";
        }
        if (e instanceof DecryptionFailureException) {
            return "Secrets Manager cannot decrypt the secret with its KMS key (DecryptionFailureException): grant"
                    + " kms:Decrypt on the secret's key";
        }
        if (e instanceof AwsServiceException service) {
            String code = service.awsErrorDetails() == null ? "" : service.awsErrorDetails().errorCode();
            if (service.statusCode() == 403 || String.valueOf(code).contains("AccessDenied")) {
                return "access denied (" + code + "): grant secretsmanager:GetSecretValue on " + secretId
                        + " to the proxy's AWS identity";
            }
            return "HTTP " + service.statusCode() + " " + code;
        }
        if (e instanceof ApiCallTimeoutException) {
            return "no answer from Secrets Manager within " + AwsClients.CALL_TIMEOUT.toSeconds() + " s; check the"
                    + " network path and AWSSettings.Endpoint";
        }
        // Only a network cause's message: an SDK message about a response it could not read may quote the secret.
        String cause = e.getCause() instanceof java.io.IOException io ? ": " + AwsClients.oneLine(io.getMessage()) : "";
        return "cannot reach Secrets Manager (" + e.getClass().getSimpleName() + cause + "); check"
                + " AWSSettings.Endpoint/Region and the AWS credentials";
    }

    @Override
    public String kind() {
        return "secrets-manager";
    }

    @Override
    public String describe() {
        return "secret " + secretId + " (" + versionStage + ")";
    }

    @Override
    public Duration refreshEvery() {
        return refresh;
    }
}
