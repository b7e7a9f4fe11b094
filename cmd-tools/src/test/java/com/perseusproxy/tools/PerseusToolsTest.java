package com.perseusproxy.tools;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PerseusToolsTest {

    @TempDir
    Path dir;

    /** One run of the tool with its exit status and both output streams. */
    record Result(int status, String out, String err) {
    }

    static Result run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = PerseusTools.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void genhashPrintsOnlyAVerifiableHash() {
        for (String[] args : new String[][] {{"genhash", "-password", "s3cret"}, {"genhash", "--password=s3cret"}}) {
            Result r = run("", args);
            assertEquals(0, r.status(), r.err());
            assertTrue(r.out().matches("[A-Za-z0-9+/=]+\n"), r.out());
            assertTrue(EasyScrypt.verify("s3cret", r.out().strip()));
        }
    }

    @Test
    void genhashReadsOneLineFromStdin() {
        Result r = run("pässword with spaces\r\nignored\n", "genhash");
        assertEquals(0, r.status(), r.err());
        assertTrue(EasyScrypt.verify("pässword with spaces", r.out().strip()));
        assertEquals(2, run("", "genhash").status());
    }

    @Test
    void genkeyWritesAnOwnerOnlyKeyAndRefusesToOverwrite() throws Exception {
        Path file = dir.resolve("local.key");
        Result r = run("", "genkey", "-out", file.toString());
        assertEquals(0, r.status(), r.err());
        String keyId = LocalKey.read(file).keyId();
        assertTrue(r.out().contains(keyId), r.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));

        Result again = run("", "genkey", "-out", file.toString());
        assertEquals(1, again.status());
        assertTrue(again.err().contains("refusing to overwrite"), again.err());
        assertEquals(keyId, LocalKey.read(file).keyId());
    }

    @Test
    void encpassPrintsOnlyALocalCiphertext() throws Exception {
        Path file = dir.resolve("local.key");
        LocalKey key = LocalKey.writeNewKey(file);
        Result fromFlag = run("", "encpass", "-key_file", file.toString(), "-passwd", "backend-pw");
        assertEquals(0, fromFlag.status(), fromFlag.err());
        assertTrue(fromFlag.out().startsWith("local:v1:" + key.keyId() + ":"), fromFlag.out());
        assertEquals("backend-pw", new LocalKeyCipher(key).decrypt(fromFlag.out().strip()));

        Result fromStdin = run("from-stdin\n", "encpass", "--key_file=" + file);
        assertEquals(0, fromStdin.status(), fromStdin.err());
        assertEquals("from-stdin", new LocalKeyCipher(key).decrypt(fromStdin.out().strip()));
        assertFalse(fromStdin.out().contains("from-stdin") || fromStdin.err().contains("from-stdin"));
    }

    @Test
    void usageErrorsExitWithTwoAndExplain() {
        assertUsage(run(""), "usage: perseus-tools");
        assertUsage(run("", "frobnicate"), "unknown command 'frobnicate'");
        assertUsage(run("", "genhash", "-pasword", "x"), "flag provided but not defined: -pasword");
        assertUsage(run("", "genhash", "-password"), "flag needs an argument: -password");
        assertUsage(run("", "genhash", "-password", "x", "extra"), "unexpected argument 'extra'");
        assertUsage(run("", "genkey"), "missing -out");
        assertUsage(run("", "encpass", "-passwd", "x"), "missing -key_arn or -key_file");
        assertUsage(run("", "genhash", "-verify", "-password", "x"), "missing -hash");
        assertUsage(run("", "genhash", "-verify=maybe"), "invalid boolean value \"maybe\" for -verify");
        assertUsage(run("", "genhash", "-hash", "AAAA"), "-hash is only used with -verify");
    }

    @Test
    void encpassWithAMissingKeyFileFailsClearly() {
        Result r = run("", "encpass", "-key_file", dir.resolve("absent.key").toString(), "-passwd", "x");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("genkey"), r.err());
    }

    @Test
    void helpExitsZero() {
        Result r = run("", "help");
        assertEquals(0, r.status());
        assertTrue(r.out().contains("encpass -key_file FILE"));
        assertTrue(r.out().contains("encpass -key_arn ARN"));
        assertTrue(r.out().contains("genhash -verify -hash H"));
        assertTrue(r.out().contains("tenant -auth_dsn DSN"));
        assertEquals(0, run("", "genhash", "-h").status());
    }

    private static void assertUsage(Result r, String expected) {
        assertEquals(2, r.status(), r.err());
        assertTrue(r.err().contains(expected), r.err());
        assertEquals("", r.out());
    }
}
