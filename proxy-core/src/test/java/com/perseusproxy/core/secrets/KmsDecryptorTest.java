package com.perseusproxy.core.secrets;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real AWS SDK client against {@link FakeKms}, reached through the endpoint override. */
class KmsDecryptorTest {

    static FakeKms kms;
    static KmsCipher cipher;

    @BeforeAll
    static void startKms() {
        kms = new FakeKms();
        cipher = KmsCipher.connect(kms.settings());
    }

    @AfterAll
    static void stopKms() {
        cipher.close();
        kms.close();
    }

    @Test
    void roundTripsThroughTheSdkWithSignedRequests() throws Exception {
        String ciphertext = cipher.encrypt("backend pässword");
        assertFalse(ciphertext.contains("backend"));
        Base64.getDecoder().decode(ciphertext);
        assertEquals("backend pässword", cipher.decrypt(ciphertext));
        assertEquals(0, kms.unsignedCalls(), "the SDK signs every request");
    }

    @Test
    void eachDistinctCiphertextIsDecryptedOnceEvenWhenManyLoginsAskAtOnce() throws Exception {
        KmsDecryptor decryptor = new KmsDecryptor(cipher);
        String first = cipher.encrypt("pw-one");
        String second = cipher.encrypt("pw-two");
        int before = kms.decryptCalls();

        ExecutorService logins = Executors.newFixedThreadPool(16);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                String ciphertext = i % 2 == 0 ? first : second + "\n"; // white space does not make it new
                results.add(logins.submit(() -> {
                    go.await();
                    return decryptor.decrypt(ciphertext);
                }));
            }
            go.countDown();
            for (int i = 0; i < results.size(); i++) {
                assertEquals(i % 2 == 0 ? "pw-one" : "pw-two", results.get(i).get(30, TimeUnit.SECONDS));
            }
        } finally {
            logins.shutdownNow();
        }
        assertEquals(2, kms.decryptCalls() - before);
        assertEquals(2, decryptor.kmsCalls());
    }

    @Test
    void acceptsBase64ThatIsNotALocalCiphertext() {
        KmsDecryptor decryptor = new KmsDecryptor(cipher);
        assertTrue(decryptor.accepts(kms.encryptDirectly("x")));
        assertTrue(decryptor.accepts(" AQIDBA== \n"));
        assertFalse(decryptor.accepts("local:v1:abcd1234:AAAA"));
        assertFalse(decryptor.accepts("not base64!"));
        assertFalse(decryptor.accepts(""));
        assertFalse(decryptor.accepts(null));
    }

    @Test
    void whenKmsIsDownKnownCiphertextsStillDecryptAndNewOnesFailClearlyThenRetryAfterBackoff() throws Exception {
        AtomicLong now = new AtomicLong();
        KmsDecryptor decryptor = new KmsDecryptor(cipher, new DecryptionCache(100, Duration.ofSeconds(1),
                Duration.ofSeconds(8), now::get));
        String known = cipher.encrypt("known-pw");
        String fresh = cipher.encrypt("fresh-pw");
        assertEquals("known-pw", decryptor.decrypt(known));

        kms.stop();
        try {
            assertEquals("known-pw", decryptor.decrypt(known));
            SecretDecryptionException down = assertThrows(SecretDecryptionException.class,
                    () -> decryptor.decrypt(fresh));
            assertTrue(down.getMessage().contains("cannot reach AWS KMS at endpoint " + kms.endpoint()),
                    down.getMessage());
            assertNoSecrets(down.getMessage(), "fresh-pw");

            long callsSoFar = decryptor.kmsCalls();
            SecretDecryptionException backingOff = assertThrows(SecretDecryptionException.class,
                    () -> decryptor.decrypt(fresh));
            assertTrue(backingOff.getMessage().contains("failed 1 time; not retried for another 1 s"),
                    backingOff.getMessage());
            assertEquals(callsSoFar, decryptor.kmsCalls(), "no KMS call during the backoff");

            now.addAndGet(Duration.ofMillis(1001).toNanos());
            assertThrows(SecretDecryptionException.class, () -> decryptor.decrypt(fresh));
            assertEquals(callsSoFar + 1, decryptor.kmsCalls());
            SecretDecryptionException doubled = assertThrows(SecretDecryptionException.class,
                    () -> decryptor.decrypt(fresh));
            assertTrue(doubled.getMessage().contains("failed 2 times; not retried for another 2 s"),
                    doubled.getMessage());
        } finally {
            kms.start();
        }
        now.addAndGet(Duration.ofSeconds(2).toNanos());
        assertEquals("fresh-pw", decryptor.decrypt(fresh));
        assertEquals("fresh-pw", decryptor.decrypt(fresh));
    }

    @Test
    void kmsErrorsSayWhatToDo() throws Exception {
        KmsDecryptor decryptor = new KmsDecryptor(cipher);

        try (KmsCipher otherKey = KmsCipher.connect(KmsSettings.of(FakeKms.OTHER_KEY_ARN, "us-east-1",
                kms.endpoint(), FakeKms.ACCESS_KEY_ID, FakeKms.SECRET_ACCESS_KEY))) {
            assertDecryptError(decryptor, otherKey.encrypt("pw"), "made with another KMS key than "
                    + FakeKms.KEY_ARN, "set AWSSettings.KMSKeyARN");
        }
        byte[] damaged = Base64.getDecoder().decode(cipher.encrypt("pw"));
        damaged[damaged.length - 1] ^= 1;
        assertDecryptError(decryptor, Base64.getEncoder().encodeToString(damaged), "InvalidCiphertextException",
                "re-encrypt the password with 'perseus-tools encpass -key_arn " + FakeKms.KEY_ARN + "'");

        kms.failWith(400, "AccessDeniedException");
        try {
            assertDecryptError(decryptor, kms.encryptDirectly("pw-denied"), "refuses the credentials "
                    + "(AccessDeniedException: User: arn:aws:iam::111122223333:user/test", "grant kms:Decrypt on "
                    + FakeKms.KEY_ARN);
            int before = kms.decryptCalls();
            assertDecryptError(decryptor, kms.encryptDirectly("pw-unavailable"), "", "");
            assertEquals(1, kms.decryptCalls() - before, "client errors are not retried");

            kms.failWith(500, "KMSInternalException");
            before = kms.decryptCalls();
            assertDecryptError(decryptor, kms.encryptDirectly("pw-internal"), "AWS KMS is unavailable right now",
                    "retried later");
            assertEquals(KmsSettings.DEFAULT_MAX_ATTEMPTS, kms.decryptCalls() - before,
                    "server errors are retried, a bounded number of times");
        } finally {
            kms.succeed();
        }

        SecretEncryptionException noKey = assertThrows(SecretEncryptionException.class, () -> {
            try (KmsCipher unknown = KmsCipher.connect(KmsSettings.of(FakeKms.KEY_ARN + "-gone", "us-east-1",
                    kms.endpoint(), FakeKms.ACCESS_KEY_ID, FakeKms.SECRET_ACCESS_KEY))) {
                unknown.encrypt("pw");
            }
        });
        assertTrue(noKey.getMessage().contains("does not exist in endpoint " + kms.endpoint()), noKey.getMessage());
        assertNoSecrets(noKey.getMessage(), "pw-");
    }

    @Test
    void settingsFindTheRegionInTheArnAndMaskTheSecret() {
        KmsSettings fromArn = KmsSettings.of("arn:aws:kms:eu-central-1:111122223333:key/abc", "", "", "", "");
        assertEquals("eu-central-1", fromArn.effectiveRegion());
        assertFalse(fromArn.staticCredentials());
        assertEquals("region eu-central-1", fromArn.describeTarget());
        fromArn.newClient().close();

        KmsSettings explicit = KmsSettings.of(FakeKms.KEY_ARN, "us-west-2", "kms.example.internal",
                FakeKms.ACCESS_KEY_ID, FakeKms.SECRET_ACCESS_KEY);
        assertEquals("us-west-2", explicit.effectiveRegion());
        explicit.newClient().close();
        assertFalse(explicit.toString().contains(FakeKms.SECRET_ACCESS_KEY), explicit.toString());
        assertTrue(explicit.toString().contains("static " + FakeKms.ACCESS_KEY_ID), explicit.toString());

        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> KmsSettings.of(FakeKms.KEY_ARN, "us-east-1", "", FakeKms.ACCESS_KEY_ID, ""));
        assertTrue(half.getMessage().contains("only one of AccessKeyId and SecretAccessKey"), half.getMessage());
        IllegalArgumentException noArn = assertThrows(IllegalArgumentException.class,
                () -> KmsSettings.of(" ", "us-east-1", "", "", ""));
        assertTrue(noArn.getMessage().contains("KMSKeyARN"), noArn.getMessage());
        IllegalArgumentException badEndpoint = assertThrows(IllegalArgumentException.class,
                () -> KmsSettings.of(FakeKms.KEY_ARN, "us-east-1", "http://", "", ""));
        assertTrue(badEndpoint.getMessage().contains("is not a URL"), badEndpoint.getMessage());
    }

    @Test
    void aMixedTableGoesToTheRightDecryptor() throws Exception {
        LocalKeyCipher local = new LocalKeyCipher(LocalKey.generate());
        KmsDecryptor viaKms = new KmsDecryptor(cipher);
        SecretDecryptors both = new SecretDecryptors(List.of(local, viaKms));
        assertEquals("local-pw", both.decrypt(local.encrypt("local-pw")));
        assertEquals("kms-pw", both.decrypt(cipher.encrypt("kms-pw")));
        assertEquals(1, viaKms.kmsCalls());

        SecretDecryptionException garbage = assertThrows(SecretDecryptionException.class,
                () -> both.decrypt("plain text password"));
        assertTrue(garbage.getMessage().contains("neither a local-key ciphertext"), garbage.getMessage());
        assertFalse(garbage.getMessage().contains("plain text password"));

        SecretDecryptionException noKms = assertThrows(SecretDecryptionException.class,
                () -> new SecretDecryptors(List.of(local)).decrypt(kms.encryptDirectly("x")));
        assertTrue(noKms.getMessage().contains("set AWSSettings.KMSKeyARN"), noKms.getMessage());
    }

    private static void assertDecryptError(KmsDecryptor decryptor, String ciphertext, String... expected) {
        SecretDecryptionException e = assertThrows(SecretDecryptionException.class,
                () -> decryptor.decrypt(ciphertext));
        for (String text : expected) {
            assertTrue(e.getMessage().contains(text), e.getMessage());
        }
        assertNoSecrets(e.getMessage(), "pw");
    }

    private static void assertNoSecrets(String message, String plaintext) {
        assertFalse(message.contains(FakeKms.SECRET_ACCESS_KEY), message);
        assertFalse(message.contains(plaintext + "-"), message);
    }
}
