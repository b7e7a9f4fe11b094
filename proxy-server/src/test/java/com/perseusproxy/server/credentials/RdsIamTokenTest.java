package com.perseusproxy.server.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendCredentials;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.auth.signer.Aws4Signer;
import software.amazon.awssdk.auth.signer.params.Aws4SignerParams;
import software.amazon.awssdk.http.SdkHttpFullRequest;
import software.amazon.awssdk.http.SdkHttpMethod;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.rds.FixedClockRdsUtilities;

/**
 * RDS IAM tokens: the SDK's SigV4 signer (the one {@code RdsUtilities} presigns with) reproduces the example the AWS
 * documentation publishes for Signature Version 4 (IAM ListUsers, 2015-08-30T12:36:00Z, key AKIDEXAMPLE); a token
 * signed by {@code RdsUtilities} at a fixed instant names region, host, port and user and carries the signature an
 * independent SigV4 computation (checked against the same published example) gives; and with a controlled clock a
 * token is renewed 5 minutes before its 15 minutes run out, and at once (once) when the server refuses it.
 */
class RdsIamTokenTest {

    // The AWS documentation's Signature Version 4 example ("Create a signed AWS API request", IAM ListUsers).
    static final String DOC_KEY_ID = "AKIDEXAMPLE";
    static final String DOC_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    static final Instant DOC_TIME = Instant.parse("2015-08-30T12:36:00Z");
    static final String DOC_AUTHORIZATION = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/"
            + "aws4_request, SignedHeaders=content-type;host;x-amz-date, "
            + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    static final String DOC_CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8";

    @Test
    void theSdkSignerReproducesThePublishedSigV4Example() {
        SdkHttpFullRequest request = SdkHttpFullRequest.builder().method(SdkHttpMethod.GET).protocol("https")
                .host("iam.amazonaws.com").encodedPath("/").putRawQueryParameter("Action", "ListUsers")
                .putRawQueryParameter("Version", "2010-05-08").putHeader("Content-Type", DOC_CONTENT_TYPE).build();
        SdkHttpFullRequest signed = Aws4Signer.create().sign(request, Aws4SignerParams.builder()
                .awsCredentials(AwsBasicCredentials.create(DOC_KEY_ID, DOC_SECRET)).signingName("iam")
                .signingRegion(Region.US_EAST_1).signingClockOverride(Clock.fixed(DOC_TIME, ZoneOffset.UTC))
                .build());
        assertEquals(DOC_AUTHORIZATION, signed.firstMatchingHeader("Authorization").orElse(""));
    }

    @Test
    void theReferenceComputationReproducesThePublishedExampleToo() throws Exception {
        String canonical = "GET\n/\nAction=ListUsers&Version=2010-05-08\ncontent-type:" + DOC_CONTENT_TYPE
                + "\nhost:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n"
                + sha256Hex("");
        assertTrue(DOC_AUTHORIZATION.endsWith("Signature=" + signature(canonical, "20150830T123600Z", "us-east-1",
                "iam")));
    }

    @Test
    void aTokenNamesRegionHostPortAndUserAndIsSignedCorrectly() throws Exception {
        var utilities = FixedClockRdsUtilities.create(Region.EU_WEST_1, StaticCredentialsProvider.create(
                AwsBasicCredentials.create(DOC_KEY_ID, DOC_SECRET)), Clock.fixed(DOC_TIME, ZoneOffset.UTC));
        RdsIamProvider.TokenSigner signer = (host, port, user) -> utilities.generateAuthenticationToken(r -> r
                .hostname(host).port(port).username(user));
        String token = signer.sign("mydb.abc123xyz.eu-west-1.rds.amazonaws.com", 5433, "mm_iam");
        URI uri = URI.create("https://" + token);
        assertEquals("mydb.abc123xyz.eu-west-1.rds.amazonaws.com", uri.getHost());
        assertEquals(5433, uri.getPort());
        Map<String, String> query = new LinkedHashMap<>();
        for (String pair : uri.getRawQuery().split("&")) {
            query.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
        }
        assertEquals("connect", query.get("Action"));
        assertEquals("mm_iam", query.get("DBUser"));
        assertEquals("AWS4-HMAC-SHA256", query.get("X-Amz-Algorithm"));
        assertEquals("AKIDEXAMPLE%2F20150830%2Feu-west-1%2Frds-db%2Faws4_request", query.get("X-Amz-Credential"));
        assertEquals("20150830T123600Z", query.get("X-Amz-Date"));
        assertEquals("900", query.get("X-Amz-Expires"), "RDS accepts a token for 15 minutes");
        assertEquals("host", query.get("X-Amz-SignedHeaders"));
        // Canonical query string: every parameter but the signature, sorted by name.
        StringBuilder canonicalQuery = new StringBuilder();
        query.entrySet().stream().filter(e -> !e.getKey().equals("X-Amz-Signature"))
                .sorted(Map.Entry.comparingByKey()).forEach(e -> canonicalQuery.append(canonicalQuery.length() == 0
                        ? "" : "&").append(e.getKey()).append('=').append(e.getValue()));
        String canonical = "GET\n/\n" + canonicalQuery + "\nhost:mydb.abc123xyz.eu-west-1.rds.amazonaws.com:5433\n\nhost\n"
                + sha256Hex("");
        assertEquals(signature(canonical, "20150830T123600Z", "eu-west-1", "rds-db"), query.get("X-Amz-Signature"));
    }

    @Test
    void tokensAreRenewedFiveMinutesBeforeTheyExpireAndOnceAtOnceWhenRefused() {
        MutableClock clock = new MutableClock(DOC_TIME);
        AtomicInteger signed = new AtomicInteger();
        RdsIamProvider provider = new RdsIamProvider((host, port, user) -> "token-" + signed.incrementAndGet(),
                "db.example", 5432, "mm_iam", Region.US_EAST_1, clock);
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger changes = new AtomicInteger();
        try {
            CredentialSources sources = new CredentialSources(Map.of("db.example/mm", provider), scheduler,
                    changes::incrementAndGet, clock);
            assertEquals(new BackendCredentials("mm_iam", "token-1"), sources.current("db.example", 5432, "mm"));
            assertEquals(DOC_TIME.plus(Duration.ofMinutes(10)), sources.nextFetch("db.example/mm"),
                    "renewed 10 minutes into its 15");
            clock.advance(Duration.ofMinutes(10).minusSeconds(1));
            assertEquals("token-1", sources.current("db.example", 5432, "mm").password(), "still fresh");
            clock.advance(Duration.ofSeconds(1));
            assertEquals("token-2", sources.current("db.example", 5432, "mm").password(),
                    "5 minutes before expiry a login gets a new token even if the background renewal is late");
            assertEquals(DOC_TIME.plus(Duration.ofMinutes(20)), sources.nextFetch("db.example/mm"));
            assertEquals(1, changes.get(), "a new token is a password change for the routes");

            // Refused: one immediate renewal; a second refusal right after does not sign again (the pool's login
            // backoff decides when it tries next).
            clock.advance(Duration.ofSeconds(30));
            assertEquals("token-3", sources.renew("db.example", 5432, "mm").password());
            assertEquals("token-3", sources.renew("db.example", 5432, "mm").password());
            clock.advance(CredentialSources.MIN_REFETCH);
            assertEquals("token-4", sources.renew("db.example", 5432, "mm").password());
            assertEquals(4, signed.get());
        } finally {
            scheduler.shutdownNow();
        }
    }

    private static String signature(String canonicalRequest, String amzDate, String region, String service)
            throws Exception {
        String date = amzDate.substring(0, 8);
        String scope = date + "/" + region + "/" + service + "/aws4_request";
        String toSign = "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex(canonicalRequest);
        byte[] key = hmac(("AWS4" + DOC_SECRET).getBytes(StandardCharsets.UTF_8), date);
        key = hmac(key, region);
        key = hmac(key, service);
        key = hmac(key, "aws4_request");
        return HexFormat.of().formatHex(hmac(key, toSign));
    }

    private static byte[] hmac(byte[] key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    }

    private static String sha256Hex(String text) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now;

        MutableClock(Instant start) {
            this.now = start;
        }

        void advance(Duration by) {
            now = now.plus(by);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
