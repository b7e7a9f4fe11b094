package com.perseusproxy.core.secrets;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LocalKeyCipherTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsThroughAKeyFile() throws Exception {
        Path file = dir.resolve("perseus.key");
        LocalKey written = LocalKey.writeNewKey(file);
        LocalKey read = LocalKey.read(file);
        assertEquals(written.keyId(), read.keyId());
        assertTrue(written.keyId().matches("[0-9a-f]{8}"));

        String ciphertext = new LocalKeyCipher(written).encrypt("pässword:with:colons");
        assertTrue(ciphertext.startsWith("local:v1:" + written.keyId() + ":"), ciphertext);
        assertFalse(ciphertext.contains("pässword"));
        assertEquals("pässword:with:colons", new LocalKeyCipher(read).decrypt(ciphertext));
        assertNotEquals(ciphertext, new LocalKeyCipher(written).encrypt("pässword:with:colons"), "fresh nonce");
    }

    @Test
    void keyFileIsOwnerOnlyAndSelfDescribing() throws Exception {
        Path file = dir.resolve("perseus.key");
        LocalKey.writeNewKey(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        String content = Files.readString(file);
        assertTrue(content.matches("perseus-local-key-v1:[A-Za-z0-9+/=]{44}\n"), content);
    }

    @Test
    void refusesToOverwriteAKeyFile() throws Exception {
        Path file = dir.resolve("perseus.key");
        LocalKey first = LocalKey.writeNewKey(file);
        IOException e = assertThrows(IOException.class, () -> LocalKey.writeNewKey(file));
        assertTrue(e.getMessage().contains("refusing to overwrite"), e.getMessage());
        assertEquals(first.keyId(), LocalKey.read(file).keyId());
    }

    @Test
    void wrongKeyIsReportedByKeyId() throws Exception {
        LocalKey a = LocalKey.generate();
        LocalKey b = LocalKey.generate();
        String ciphertext = new LocalKeyCipher(a).encrypt("secret");
        SecretDecryptionException e = assertThrows(SecretDecryptionException.class,
                () -> new LocalKeyCipher(b).decrypt(ciphertext));
        assertTrue(e.getMessage().contains(a.keyId()) && e.getMessage().contains("LocalKeySettings.KeyFile"),
                e.getMessage());
        assertFalse(e.getMessage().contains("secret"));
    }

    @Test
    void tamperedCiphertextIsRefused() throws Exception {
        LocalKey key = LocalKey.generate();
        LocalKeyCipher cipher = new LocalKeyCipher(key);
        String ciphertext = cipher.encrypt("secret");
        int payloadAt = ciphertext.lastIndexOf(':') + 1;
        byte[] raw = Base64.getDecoder().decode(ciphertext.substring(payloadAt));
        raw[raw.length - 20] ^= 1;
        String tampered = ciphertext.substring(0, payloadAt) + Base64.getEncoder().encodeToString(raw);
        SecretDecryptionException e = assertThrows(SecretDecryptionException.class, () -> cipher.decrypt(tampered));
        assertTrue(e.getMessage().contains("altered"), e.getMessage());

        assertThrows(SecretDecryptionException.class, () -> cipher.decrypt(ciphertext.substring(0, payloadAt + 8)));
        assertThrows(SecretDecryptionException.class, () -> cipher.decrypt(ciphertext.replace("local:v1:", "local:v9:")));
        assertThrows(SecretDecryptionException.class, () -> cipher.decrypt("local:v1:" + key.keyId() + ":@@@"));
    }

    @Test
    void rotatedKeysStillDecryptWhileTheFirstEncrypts() throws Exception {
        LocalKey oldKey = LocalKey.generate();
        LocalKey newKey = LocalKey.generate();
        String old = new LocalKeyCipher(oldKey).encrypt("old-secret");
        Path file = dir.resolve("ring.key");
        Files.writeString(file, "# rotated 2026-11\n" + line(newKey) + "\n\n" + line(oldKey) + "\n");
        List<LocalKey> ring = LocalKey.readAll(file);
        LocalKeyCipher cipher = new LocalKeyCipher(ring);
        assertEquals(List.of(newKey.keyId(), oldKey.keyId()), cipher.keyIds());
        assertEquals("old-secret", cipher.decrypt(old));
        assertTrue(cipher.encrypt("x").startsWith("local:v1:" + newKey.keyId() + ":"));
    }

    @Test
    void wrongFileContentGetsAClearErrorWithoutEchoingIt() throws Exception {
        Path file = dir.resolve("not-a-key");
        Files.writeString(file, "hunter2\n");
        IOException e = assertThrows(IOException.class, () -> LocalKey.read(file));
        assertTrue(e.getMessage().contains("not a Perseus local key") && !e.getMessage().contains("hunter2"),
                e.getMessage());

        Files.writeString(file, "perseus-local-key-v1:" + Base64.getEncoder().encodeToString(new byte[16]));
        e = assertThrows(IOException.class, () -> LocalKey.read(file));
        assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());

        Files.writeString(file, "\n# nothing\n");
        e = assertThrows(IOException.class, () -> LocalKey.read(file));
        assertTrue(e.getMessage().contains("holds no key"), e.getMessage());

        e = assertThrows(IOException.class, () -> LocalKey.read(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("genkey"), e.getMessage());
    }

    @Test
    void toStringShowsOnlyTheKeyId() {
        LocalKey key = LocalKey.generate();
        assertEquals("LocalKey[" + key.keyId() + "]", key.toString());
    }

    @Test
    void compositePicksByPrefixAndNamesTheMissingSetting() throws Exception {
        LocalKey key = LocalKey.generate();
        LocalKeyCipher local = new LocalKeyCipher(key);
        String ciphertext = local.encrypt("secret");

        SecretDecryptors withLocal = new SecretDecryptors(List.of(local));
        assertEquals("secret", withLocal.decrypt(ciphertext));
        SecretDecryptionException kms = assertThrows(SecretDecryptionException.class,
                () -> withLocal.decrypt(Base64.getEncoder().encodeToString("kms blob".getBytes(StandardCharsets.UTF_8))));
        assertTrue(kms.getMessage().contains("AWSSettings.KMSKeyARN"), kms.getMessage());

        SecretDecryptors none = new SecretDecryptors(List.of());
        SecretDecryptionException missing = assertThrows(SecretDecryptionException.class,
                () -> none.decrypt(ciphertext));
        assertTrue(missing.getMessage().contains("LocalKeySettings.KeyFile"), missing.getMessage());
        assertThrows(SecretDecryptionException.class, () -> none.decrypt(""));
    }

    private static String line(LocalKey key) throws IOException {
        Path tmp = Files.createTempDirectory("k").resolve("k");
        key.writeNew(tmp);
        return Files.readString(tmp).strip();
    }
}
