package com.perseusproxy.tools;

import com.perseusproxy.core.secrets.FakeKms;
import com.perseusproxy.core.secrets.KmsCipher;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Base64;

import static com.perseusproxy.tools.PerseusToolsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** encpass with Perseus's KMS flags, against the real SDK and a KMS-compatible endpoint. */
class EncpassKmsTest {

    static FakeKms kms;

    @BeforeAll
    static void startKms() {
        kms = new FakeKms();
    }

    @AfterAll
    static void stopKms() {
        kms.close();
    }

    static String[] perseusFlags(String... more) {
        String[] base = {"encpass", "-access_key_id", FakeKms.ACCESS_KEY_ID, "-secret_access_key",
                FakeKms.SECRET_ACCESS_KEY, "-region", "us-east-1", "-endpoint", kms.endpoint(),
                "-key_arn", FakeKms.KEY_ARN};
        String[] all = new String[base.length + more.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }

    @Test
    void printsOnlyTheBase64CiphertextBlobAsPerseusDoes() throws Exception {
        int before = kms.encryptCalls();
        PerseusToolsTest.Result r = run("", perseusFlags("-passwd", "backend-pw"));
        assertEquals(0, r.status(), r.err());
        assertEquals("", r.err());
        assertTrue(r.out().endsWith("\n") && r.out().strip().lines().count() == 1, r.out());
        String ciphertext = r.out().strip();
        Base64.getDecoder().decode(ciphertext);
        assertEquals(1, kms.encryptCalls() - before);
        assertEquals(0, kms.unsignedCalls());
        try (KmsCipher cipher = KmsCipher.connect(kms.settings())) {
            assertEquals("backend-pw", cipher.decrypt(ciphertext));
        }
    }

    @Test
    void readsThePasswordFromStdinAndAcceptsGoFlagSpellings() throws Exception {
        PerseusToolsTest.Result r = run("from-stdin\n", "encpass", "--key_arn=" + FakeKms.KEY_ARN,
                "-endpoint=" + kms.endpoint(), "--region", "us-east-1",
                "-access_key_id", FakeKms.ACCESS_KEY_ID, "-secret_access_key", FakeKms.SECRET_ACCESS_KEY);
        assertEquals(0, r.status(), r.err());
        try (KmsCipher cipher = KmsCipher.connect(kms.settings())) {
            assertEquals("from-stdin", cipher.decrypt(r.out().strip()));
        }
        assertFalse(r.out().contains("from-stdin") || r.err().contains("from-stdin"));
    }

    @Test
    void blankCredentialsMeanTheDefaultChain() {
        // No credentials anywhere in this JVM's environment is the likely case here; either way the SDK's default
        // chain is asked, and its failure is reported, never a usage error. The chain's last resort, the EC2
        // instance metadata service, is switched off: tests talk to loopback addresses only.
        String previous = System.setProperty("aws.disableEc2Metadata", "true");
        try {
            PerseusToolsTest.Result r = run("", "encpass", "-access_key_id", "", "-secret_access_key", "", "-region",
                    "us-east-1", "-endpoint", kms.endpoint(), "-key_arn", FakeKms.KEY_ARN, "-passwd", "pw");
            assertTrue(r.status() == 0 || r.err().contains("AWS KMS Encrypt failed"), r.err());
        } finally {
            if (previous == null) {
                System.clearProperty("aws.disableEc2Metadata");
            } else {
                System.setProperty("aws.disableEc2Metadata", previous);
            }
        }
    }

    @Test
    void failuresExplainWithoutSecrets() {
        kms.stop();
        try {
            PerseusToolsTest.Result down = run("", perseusFlags("-passwd", "pw-never-shown"));
            assertEquals(1, down.status());
            assertTrue(down.err().contains("cannot reach AWS KMS at endpoint " + kms.endpoint()), down.err());
            assertFalse(down.err().contains("pw-never-shown") || down.err().contains(FakeKms.SECRET_ACCESS_KEY),
                    down.err());
            assertEquals("", down.out());
        } finally {
            kms.start();
        }
        kms.failWith(400, "AccessDeniedException");
        try {
            PerseusToolsTest.Result denied = run("", perseusFlags("-passwd", "pw-never-shown"));
            assertEquals(1, denied.status());
            assertTrue(denied.err().contains("grant kms:Encrypt on " + FakeKms.KEY_ARN), denied.err());
        } finally {
            kms.succeed();
        }
        PerseusToolsTest.Result half = run("", "encpass", "-key_arn", FakeKms.KEY_ARN, "-access_key_id", "AKIA",
                "-passwd", "x");
        assertEquals(2, half.status());
        assertTrue(half.err().contains("only one of -access_key_id and -secret_access_key"), half.err());
        PerseusToolsTest.Result both = run("", "encpass", "-key_arn", FakeKms.KEY_ARN, "-key_file", "/k",
                "-passwd", "x");
        assertEquals(2, both.status());
        assertTrue(both.err().contains("-key_arn and -key_file both given"), both.err());
        PerseusToolsTest.Result stray = run("", "encpass", "-key_file", "/k", "-region", "us-east-1", "-passwd", "x");
        assertEquals(2, stray.status());
        assertTrue(stray.err().contains("-region is a KMS flag"), stray.err());
    }
}
