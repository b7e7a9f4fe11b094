package com.perseusproxy.core.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EasyScryptTest {

    /** One line of the fixture file written by scripts/gen_scrypt_fixtures.py (Python's hashlib.scrypt). */
    record Fixture(String password, int n, int r, int p, int keyLength, String hash) {
        @Override
        public String toString() {
            return "N=" + n + " r=" + r + " p=" + p + " keylen=" + keyLength + " password=" + password;
        }
    }

    static List<Fixture> fixtures() throws IOException {
        try (InputStream in = EasyScryptTest.class.getResourceAsStream("/easy-scrypt-fixtures.tsv")) {
            return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8)).lines()
                    .map(line -> line.split("\t", -1))
                    .map(f -> new Fixture(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]),
                            Integer.parseInt(f[3]), Integer.parseInt(f[4]), f[5]))
                    .toList();
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void verifiesHashesMadeByAnIndependentImplementation(Fixture fixture) {
        assertEquals(fixture.keyLength + 60, Base64.getDecoder().decode(fixture.hash).length);
        assertTrue(EasyScrypt.verify(fixture.password, fixture.hash));
        assertFalse(EasyScrypt.verify(fixture.password + "x", fixture.hash));
    }

    @Test
    void fixturesCoverPerseusParametersAndOthers() throws IOException {
        List<Fixture> all = fixtures();
        assertTrue(all.stream().anyMatch(f -> f.n == 16384 && f.r == 8 && f.p == 1 && f.keyLength == 32));
        assertTrue(all.stream().anyMatch(f -> f.n == 1024 && f.r == 4 && f.p == 2 && f.keyLength == 16));
        assertTrue(all.stream().anyMatch(f -> f.keyLength == 64));
    }

    @Test
    void hashUsesPerseusParametersAndLayout() {
        byte[] raw = Base64.getDecoder().decode(EasyScrypt.hash("secret"));
        assertEquals(92, raw.length);
        ByteBuffer params = ByteBuffer.wrap(raw, 48, 12).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(16384, params.getInt());
        assertEquals(8, params.getInt());
        assertEquals(1, params.getInt());
    }

    @Test
    void hashRoundTripsAndSaltsEachHash() {
        String a = EasyScrypt.hash("secret", 1024, 8, 1, 32);
        String b = EasyScrypt.hash("secret", 1024, 8, 1, 32);
        assertFalse(a.equals(b));
        assertTrue(EasyScrypt.verify("secret", a));
        assertTrue(EasyScrypt.verify("secret", b));
        assertFalse(EasyScrypt.verify("Secret", a));
    }

    @Test
    void hashesVerifyInPython() throws Exception {
        Process python = PythonScrypt.start("verify");
        String input = "secret\t" + EasyScrypt.hash("secret") + "\n"
                + "pässwörd ✓\t" + EasyScrypt.hash("pässwörd ✓", 1024, 4, 2, 16) + "\n"
                + "wrong\t" + EasyScrypt.hash("right", 2048, 8, 1, 64) + "\n";
        try (OutputStream stdin = python.getOutputStream()) {
            stdin.write(input.getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, python.exitValue(), new String(python.getErrorStream().readAllBytes()));
        assertEquals(List.of("ok", "ok", "fail"), output.lines().toList());
    }

    @Test
    void flippedBitInKeyFailsEvenWithARepairedDigest() {
        byte[] raw = Base64.getDecoder().decode(EasyScrypt.hash("secret", 1024, 8, 1, 32));
        raw[0] ^= 1;
        String tampered = Base64.getEncoder().encodeToString(redigest(raw));
        assertTrue(EasyScrypt.isWellFormed(tampered));
        assertFalse(EasyScrypt.verify("secret", tampered));
    }

    @Test
    void brokenDigestIsRefused() {
        byte[] raw = Base64.getDecoder().decode(EasyScrypt.hash("secret", 1024, 8, 1, 32));
        raw[raw.length - 1] ^= 1;
        String broken = Base64.getEncoder().encodeToString(raw);
        assertFalse(EasyScrypt.isWellFormed(broken));
        assertFalse(EasyScrypt.verify("secret", broken));
    }

    @Test
    void malformedInputReturnsFalseWithoutThrowing() {
        String good = EasyScrypt.hash("secret", 1024, 8, 1, 32);
        for (String bad : new String[] {null, "", "not base64!!", good.substring(0, 40), "AAAA",
                Base64.getEncoder().encodeToString(new byte[60])}) {
            assertFalse(EasyScrypt.verify("secret", bad), String.valueOf(bad));
        }
        assertFalse(EasyScrypt.verify(null, good));
    }

    @Test
    void absurdCostsAreRefusedBeforeAnyWork() {
        assertFalse(EasyScrypt.verify("x", withParams(1000, 8, 1)));          // N not a power of two
        assertFalse(EasyScrypt.verify("x", withParams(1, 8, 1)));             // N too small
        assertFalse(EasyScrypt.verify("x", withParams(1 << 30, 8, 1)));       // 1 TiB of memory
        assertFalse(EasyScrypt.verify("x", withParams(16384, 0, 1)));
        assertFalse(EasyScrypt.verify("x", withParams(16384, 8, -1)));
        assertFalse(EasyScrypt.verify("x", withParams(16384, 8, Integer.MAX_VALUE)));
        assertThrows(IllegalArgumentException.class, () -> EasyScrypt.hash("x", 1000, 8, 1, 32));
    }

    @Test
    void dummyHashIsWellFormedAndMatchesNothingObvious() {
        assertTrue(EasyScrypt.isWellFormed(EasyScrypt.dummyHash()));
        assertFalse(EasyScrypt.verify("", EasyScrypt.dummyHash()));
    }

    /** A structurally valid hash (correct digest) with the given cost parameters and a random key. */
    private static String withParams(int n, int r, int p) {
        ByteBuffer body = ByteBuffer.allocate(92).order(ByteOrder.LITTLE_ENDIAN);
        body.position(48);
        body.putInt(n).putInt(r).putInt(p);
        return Base64.getEncoder().encodeToString(redigest(body.array()));
    }

    private static byte[] redigest(byte[] raw) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(raw, 0, raw.length - 32);
            System.arraycopy(sha.digest(), 0, raw, raw.length - 32, 32);
            return raw;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
