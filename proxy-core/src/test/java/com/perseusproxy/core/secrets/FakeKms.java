package com.perseusproxy.core.secrets;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A KMS-compatible HTTP endpoint for tests: AWS JSON 1.1 ({@code X-Amz-Target: TrentService.Encrypt} /
 * {@code TrentService.Decrypt}) on a loopback port, reached by the real AWS SDK through an endpoint override. It does
 * not check signatures (it only checks that a request is signed), counts calls, can be stopped and started again on
 * the same port, and can be told to answer with an AWS error. Ciphertexts are AES-GCM under a key of this instance,
 * with the key ARN inside, so the wrong KeyId and a damaged blob fail as real KMS fails.
 */
public final class FakeKms implements AutoCloseable {

    public static final String KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    public static final String OTHER_KEY_ARN =
            "arn:aws:kms:us-east-1:111122223333:key/99999999-12ab-34cd-56ef-1234567890ab";
    /** Dummy static credentials: the SDK signs with them, nobody verifies. */
    public static final String ACCESS_KEY_ID = "AKIAFAKEKMS000000000";
    public static final String SECRET_ACCESS_KEY = "fake-secret-access-key-n0t-real/Zz";

    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\"\\s*:\\s*\"([^\"]*)\"");
    private static final byte[] MAGIC = "FKMS".getBytes(StandardCharsets.US_ASCII);

    private final byte[] aesKey = new byte[32];
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger encryptCalls = new AtomicInteger();
    private final AtomicInteger decryptCalls = new AtomicInteger();
    private final AtomicInteger unsignedCalls = new AtomicInteger();
    private final int port;
    private HttpServer server;
    private volatile String failWithType;
    private volatile int failWithStatus;

    public FakeKms() {
        random.nextBytes(aesKey);
        server = bind(0);
        port = server.getAddress().getPort();
        server.start();
    }

    /** The URL to configure as {@code AWSSettings.Endpoint} / {@code encpass -endpoint}. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    public int encryptCalls() {
        return encryptCalls.get();
    }

    public int decryptCalls() {
        return decryptCalls.get();
    }

    /** Requests that came without an AWS Signature V4 Authorization header (expected: none). */
    public int unsignedCalls() {
        return unsignedCalls.get();
    }

    /** Settings for the real SDK client against this endpoint, with dummy static credentials. */
    public KmsSettings settings() {
        return KmsSettings.of(KEY_ARN, "us-east-1", endpoint(), ACCESS_KEY_ID, SECRET_ACCESS_KEY);
    }

    /** Closes the port: clients get "connection refused", as when KMS is unreachable. */
    public synchronized void stop() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
    }

    /** Opens the same port again. */
    public synchronized void start() {
        if (server == null) {
            server = bind(port);
            server.start();
        }
    }

    /** Every call answers with this AWS error (e.g. 400 "AccessDeniedException") until {@link #succeed()}. */
    public void failWith(int status, String errorType) {
        failWithStatus = status;
        failWithType = errorType;
    }

    public void succeed() {
        failWithType = null;
    }

    /** What Encrypt would return for this plaintext under {@link #KEY_ARN}, without counting a call. */
    public String encryptDirectly(String plaintext) {
        return Base64.getEncoder().encodeToString(seal(KEY_ARN, plaintext.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public void close() {
        stop();
    }

    private HttpServer bind(int onPort) {
        try {
            HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort), 16);
            http.createContext("/", this::handle);
            return http;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the fake KMS to port " + onPort, e);
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String target = String.valueOf(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            if (authorization == null || !authorization.startsWith("AWS4-HMAC-SHA256 ")) {
                unsignedCalls.incrementAndGet();
            }
            switch (target) {
                case "TrentService.Encrypt" -> encryptCalls.incrementAndGet();
                case "TrentService.Decrypt" -> decryptCalls.incrementAndGet();
                default -> {
                    error(exchange, 400, "UnknownOperationException", "unsupported target " + target);
                    return;
                }
            }
            String type = failWithType;
            if (type != null) {
                error(exchange, failWithStatus, type, "User: arn:aws:iam::111122223333:user/test is not authorized "
                        + "(fake " + type + ")");
                return;
            }
            String keyId = field(body, "KeyId");
            if (target.equals("TrentService.Encrypt")) {
                if (!keyId.equals(KEY_ARN) && !keyId.equals(OTHER_KEY_ARN)) {
                    error(exchange, 400, "NotFoundException", "Key '" + keyId + "' does not exist");
                    return;
                }
                byte[] plaintext = Base64.getDecoder().decode(field(body, "Plaintext"));
                ok(exchange, "{\"CiphertextBlob\":\"" + Base64.getEncoder().encodeToString(seal(keyId, plaintext))
                        + "\",\"KeyId\":\"" + keyId + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}");
                return;
            }
            byte[] blob = Base64.getDecoder().decode(field(body, "CiphertextBlob"));
            Opened opened = open(blob);
            if (opened == null) {
                error(exchange, 400, "InvalidCiphertextException", null);
            } else if (!keyId.isEmpty() && !keyId.equals(opened.keyId)) {
                error(exchange, 400, "IncorrectKeyException", "The key ID in the request does not identify a CMK "
                        + "that can perform this operation.");
            } else {
                ok(exchange, "{\"KeyId\":\"" + opened.keyId + "\",\"Plaintext\":\""
                        + Base64.getEncoder().encodeToString(opened.plaintext)
                        + "\",\"EncryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}");
            }
        }
    }

    private static String field(String json, String name) {
        Matcher m = FIELD.matcher(json);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return m.group(2);
            }
        }
        return "";
    }

    private static void ok(HttpExchange exchange, String json) throws IOException {
        send(exchange, 200, json, null);
    }

    private static void error(HttpExchange exchange, int status, String type, String message) throws IOException {
        String json = "{\"__type\":\"" + type + "\"" + (message == null ? "" : ",\"message\":\"" + message + "\"")
                + "}";
        send(exchange, status, json, type);
    }

    private static void send(HttpExchange exchange, int status, String json, String errorType) throws IOException {
        byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
        exchange.getResponseHeaders().set("x-amzn-RequestId", "fake-" + System.nanoTime());
        if (errorType != null) {
            exchange.getResponseHeaders().set("X-Amzn-ErrorType", errorType);
        }
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    private record Opened(String keyId, byte[] plaintext) {
    }

    /** MAGIC | keyId length (2) | keyId | nonce (12) | AES-GCM(plaintext) with the header as associated data. */
    private byte[] seal(String keyId, byte[] plaintext) {
        byte[] id = keyId.getBytes(StandardCharsets.UTF_8);
        byte[] nonce = new byte[12];
        random.nextBytes(nonce);
        ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 2 + id.length);
        header.put(MAGIC).putShort((short) id.length).put(id);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(aesKey, "AES"), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(header.array());
            byte[] sealed = cipher.doFinal(plaintext);
            return ByteBuffer.allocate(header.capacity() + nonce.length + sealed.length)
                    .put(header.array()).put(nonce).put(sealed).array();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private Opened open(byte[] blob) {
        try {
            ByteBuffer in = ByteBuffer.wrap(blob);
            byte[] magic = new byte[MAGIC.length];
            in.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                return null;
            }
            byte[] id = new byte[in.getShort()];
            in.get(id);
            int headerLength = in.position();
            byte[] nonce = new byte[12];
            in.get(nonce);
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.DECRYPT_MODE, new SecretKeySpec(aesKey, "AES"), new GCMParameterSpec(128, nonce));
            cipher.updateAAD(blob, 0, headerLength);
            byte[] plaintext = cipher.doFinal(blob, in.position(), blob.length - in.position());
            return new Opened(new String(id, StandardCharsets.UTF_8), plaintext);
        } catch (RuntimeException | GeneralSecurityException e) {
            return null;
        }
    }
}
