package com.perseusproxy.server.credentials;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.perseusproxy.server.config.AwsSettings;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A Secrets Manager-compatible HTTP endpoint for tests, like the fake KMS: AWS JSON 1.1
 * ({@code X-Amz-Target: secretsmanager.GetSecretValue}) on a loopback port, reached by the real AWS SDK through
 * {@code AWSSettings.Endpoint}. Secrets have versions labelled with stages, as in AWS: {@link #put} adds a version and
 * moves the stage to it, which is what a rotation function's createSecret (AWSPENDING) and finishSecret (AWSCURRENT)
 * steps do. It counts calls and requests that came unsigned; it does not verify signatures.
 */
public final class FakeSecretsManager implements AutoCloseable {

    public static final String ACCESS_KEY_ID = "AKIAFAKESECRETS00000";
    public static final String SECRET_ACCESS_KEY = "fake-secrets-access-key-n0t-real/Qq";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** (secret id, stage) → the version's SecretString. */
    private final Map<String, String> versions = new ConcurrentHashMap<>();
    private final AtomicInteger getCalls = new AtomicInteger();
    private final AtomicInteger unsignedCalls = new AtomicInteger();
    private final HttpServer server;

    public FakeSecretsManager() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the fake Secrets Manager", e);
        }
        server.createContext("/", this::handle);
        server.start();
    }

    public String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    /** AWSSettings pointing the real SDK here, with dummy static keys (signed, never verified). */
    public AwsSettings awsSettings() {
        return new AwsSettings(ACCESS_KEY_ID, SECRET_ACCESS_KEY, "us-east-1", endpoint(), "");
    }

    /** The {@code "AWSSettings": {...},} config entry for {@link #awsSettings()}. */
    public String awsSettingsJson() {
        return """
                "AWSSettings": { "AccessKeyId": "%s", "SecretAccessKey": "%s", "Region": "us-east-1",
                                 "Endpoint": "%s" },""".formatted(ACCESS_KEY_ID, SECRET_ACCESS_KEY, endpoint());
    }

    /** Stores AWS's database-secret JSON as a new version of {@code secretId} labelled {@code stage}. */
    public void put(String secretId, String stage, String username, String password) {
        ObjectNode value = JSON.createObjectNode().put("engine", "postgres").put("host", "127.0.0.1")
                .put("username", username).put("password", password).put("dbname", "appdb").put("port", 5432);
        versions.put(secretId + "\u0000" + stage, value.toString());
    }

    /** Stores any SecretString (for malformed-secret tests). */
    public void putRaw(String secretId, String stage, String secretString) {
        versions.put(secretId + "\u0000" + stage, secretString);
    }

    public int getCalls() {
        return getCalls.get();
    }

    public int unsignedCalls() {
        return unsignedCalls.get();
    }

    @Override
    public void close() {
        server.stop(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization == null || !authorization.startsWith("AWS4-HMAC-SHA256 ")) {
                unsignedCalls.incrementAndGet();
            }
            String target = String.valueOf(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
            if (!target.equals("secretsmanager.GetSecretValue")) {
                send(exchange, 400, "UnknownOperationException", "{\"__type\":\"UnknownOperationException\"}");
                return;
            }
            getCalls.incrementAndGet();
            JsonNode request = JSON.readTree(exchange.getRequestBody());
            String id = request.path("SecretId").asText();
            String stage = request.path("VersionStage").asText("AWSCURRENT");
            String value = versions.get(id + "\u0000" + stage);
            if (value == null) {
                send(exchange, 400, "ResourceNotFoundException", "{\"__type\":\"ResourceNotFoundException\","
                        + "\"Message\":\"Secrets Manager can't find the specified secret.\"}");
                return;
            }
            ObjectNode response = JSON.createObjectNode()
                    .put("ARN", "arn:aws:secretsmanager:us-east-1:111122223333:secret:" + id + "-AbCdEf")
                    .put("Name", id).put("VersionId", UUID.nameUUIDFromBytes(value.getBytes(StandardCharsets.UTF_8))
                            .toString()).put("SecretString", value).put("CreatedDate", 1.7e9);
            response.putArray("VersionStages").add(stage);
            send(exchange, 200, null, response.toString());
        }
    }

    private static void send(HttpExchange exchange, int status, String errorType, String json) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        exchange.getResponseHeaders().set("x-amzn-RequestId", "fake-" + System.nanoTime());
        if (errorType != null) {
            exchange.getResponseHeaders().set("x-amzn-ErrorType", errorType);
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }
}
