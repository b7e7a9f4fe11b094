package com.perseusproxy.tools;

import com.perseusproxy.core.auth.PythonScrypt;
import com.perseusproxy.core.auth.EasyScrypt;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.perseusproxy.tools.PerseusToolsTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GenhashVerifyTest {

    @Test
    void verifyExitsZeroOnAMatchAndOneOtherwise() {
        String hash = EasyScrypt.hash("s3cret", 1024, 8, 1, 32);
        PerseusToolsTest.Result match = run("", "genhash", "-verify", "-hash", hash, "-password", "s3cret");
        assertEquals(0, match.status(), match.err());
        assertEquals("", match.out());
        assertTrue(match.err().contains("matches"), match.err());

        PerseusToolsTest.Result mismatch = run("", "genhash", "-verify", "-hash", hash, "-password", "S3cret");
        assertEquals(1, mismatch.status());
        assertTrue(mismatch.err().contains("does NOT match"), mismatch.err());

        PerseusToolsTest.Result fromStdin = run("s3cret\n", "genhash", "--verify=true", "--hash=" + hash);
        assertEquals(0, fromStdin.status(), fromStdin.err());

        PerseusToolsTest.Result malformed = run("", "genhash", "-verify", "-hash", "bm90IGEgaGFzaA==",
                "-password", "s3cret");
        assertEquals(1, malformed.status());
        assertTrue(malformed.err().contains("not a usable easy-scrypt hash"), malformed.err());
    }

    @Test
    void verifiesHashesWithOtherCostsAndKeyLengths() {
        for (int[] cost : new int[][] {{2048, 4, 2, 16}, {4096, 8, 1, 64}, {16384, 8, 1, 32}}) {
            String hash = EasyScrypt.hash("pässwörd", cost[0], cost[1], cost[2], cost[3]);
            assertEquals(0, run("pässwörd\n", "genhash", "-verify", "-hash", hash).status());
            assertEquals(1, run("passwörd\n", "genhash", "-verify", "-hash", hash).status());
        }
    }

    /** Hashes made by Python's hashlib.scrypt with various N, r, p and key lengths pass genhash -verify. */
    @Test
    void pythonMadeHashesPassVerify() throws Exception {
        Process python = PythonScrypt.start("generate");
        python.getOutputStream().close();
        List<String> lines = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines()
                .toList();
        assertTrue(python.waitFor(60, TimeUnit.SECONDS));
        assertTrue(lines.size() >= 5, lines.toString());
        for (String line : lines) {
            String[] f = line.split("\t", -1); // password, N, r, p, keylen, hash
            if (f[0].isEmpty()) {
                continue; // an empty password cannot be typed on standard input
            }
            PerseusToolsTest.Result r = run(f[0] + "\n", "genhash", "-verify", "-hash", f[5]);
            assertEquals(0, r.status(), "N=" + f[1] + " r=" + f[2] + " p=" + f[3] + " keylen=" + f[4] + ": " + r.err());
        }
    }

    /** genhash's output checked by an independent scrypt (Python's hashlib.scrypt) in scripts/. */
    @Test
    void genhashOutputVerifiesInPython() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (String password : List.of("correct horse", "pässwörd ✓ 日本", "")) {
            PerseusToolsTest.Result r = password.isEmpty()
                    ? run("", "genhash", "-password", "other") : run(password + "\n", "genhash");
            assertEquals(0, r.status(), r.err());
            lines.append(password.isEmpty() ? "wrong" : password).append('\t').append(r.out().strip()).append('\n');
        }
        Process python = PythonScrypt.start("verify");
        try (OutputStream stdin = python.getOutputStream()) {
            stdin.write(lines.toString().getBytes(StandardCharsets.UTF_8));
        }
        String output = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, python.exitValue(), new String(python.getErrorStream().readAllBytes()));
        assertEquals(List.of("ok", "ok", "fail"), output.lines().toList());
    }
}
