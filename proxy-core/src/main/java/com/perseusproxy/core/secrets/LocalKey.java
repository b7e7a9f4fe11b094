package com.perseusproxy.core.secrets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * A 256-bit AES key kept in a file on the proxy's host: the alternative to AWS KMS for encrypting
 * {@code dest_pass_enc}. The file holds one line {@code perseus-local-key-v1:<base64 of 32 bytes>}; during a key
 * rotation it may hold further lines with older keys (the first line is the current key, the rest still decrypt).
 * Blank lines and lines starting with {@code #} are ignored. {@link #toString()} shows only the {@link #keyId()}.
 */
public final class LocalKey {

    public static final String LINE_PREFIX = "perseus-local-key-v1:";
    public static final int KEY_BYTES = 32;

    private static final Logger log = LoggerFactory.getLogger(LocalKey.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Set<PosixFilePermission> OWNER_ONLY = EnumSet.of(
            PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);

    private final byte[] key;
    private final String keyId;

    private LocalKey(byte[] key) {
        this.key = key.clone();
        this.keyId = computeKeyId(key);
    }

    public static LocalKey generate() {
        byte[] key = new byte[KEY_BYTES];
        RANDOM.nextBytes(key);
        return new LocalKey(key);
    }

    /** The current (first) key of a key file. */
    public static LocalKey read(Path file) throws IOException {
        return readAll(file).get(0);
    }

    /** All keys of a key file, the current one first; never empty. */
    public static List<LocalKey> readAll(Path file) throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IOException("local key file " + file + " does not exist: create one with "
                    + "'perseus-tools genkey -out " + file + "' or fix LocalKeySettings.KeyFile", e);
        }
        warnIfReadableByOthers(file);
        List<LocalKey> keys = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            LocalKey key = parseLine(file, i + 1, line);
            for (LocalKey other : keys) {
                if (other.keyId.equals(key.keyId)) {
                    throw new IOException("local key file " + file + " lists key " + key.keyId
                            + " twice (line " + (i + 1) + "): remove the duplicate line");
                }
            }
            keys.add(key);
        }
        if (keys.isEmpty()) {
            throw new IOException("local key file " + file + " holds no key: expected a line '" + LINE_PREFIX
                    + "<base64 of 32 bytes>'; create one with 'perseus-tools genkey -out FILE'");
        }
        return keys;
    }

    /**
     * Writes this key to a new file readable only by its owner (mode 0600). Refuses to overwrite an existing file:
     * ciphertexts made with the key it holds would become undecryptable.
     */
    public void writeNew(Path file) throws IOException {
        byte[] content = (LINE_PREFIX + Base64.getEncoder().encodeToString(key) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
        try (SeekableByteChannel channel = createOwnerOnly(file)) {
            ByteBuffer buffer = ByteBuffer.wrap(content);
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
        } catch (FileAlreadyExistsException e) {
            throw new IOException(file + " already exists; refusing to overwrite a key file (passwords encrypted "
                    + "with its key could no longer be decrypted): choose another path, or delete the file "
                    + "deliberately first", e);
        }
    }

    /** Created with mode 0600 from the start, so the key is never readable by others, not even for a moment. */
    private static SeekableByteChannel createOwnerOnly(Path file) throws IOException {
        Set<StandardOpenOption> options = EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            return Files.newByteChannel(file, options, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (UnsupportedOperationException notPosix) {
            return Files.newByteChannel(file, options);
        }
    }

    /** Generates a key and writes it with {@link #writeNew(Path)}. */
    public static LocalKey writeNewKey(Path file) throws IOException {
        LocalKey key = generate();
        key.writeNew(file);
        return key;
    }

    /** First 8 hex digits of SHA-256 of the key: names the key in ciphertexts and logs without revealing it. */
    public String keyId() {
        return keyId;
    }

    /** A copy of the key material, for the cipher only. */
    byte[] material() {
        return key.clone();
    }

    @Override
    public String toString() {
        return "LocalKey[" + keyId + "]";
    }

    private static LocalKey parseLine(Path file, int lineNumber, String line) throws IOException {
        String expected = "; expected '" + LINE_PREFIX + "<base64 of " + KEY_BYTES + " bytes>' as written by "
                + "'perseus-tools genkey'";
        if (!line.startsWith(LINE_PREFIX)) {
            // The line itself is not echoed: a mistaken path might point at some other secret.
            throw new IOException("line " + lineNumber + " of " + file + " is not a Perseus local key" + expected);
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(line.substring(LINE_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IOException("line " + lineNumber + " of " + file + " has a key that is not valid base64"
                    + expected);
        }
        if (key.length != KEY_BYTES) {
            throw new IOException("line " + lineNumber + " of " + file + " has a key of " + key.length
                    + " bytes" + expected);
        }
        return new LocalKey(key);
    }

    private static void warnIfReadableByOthers(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("local key file {} is readable by other users (mode {}): run 'chmod 600 {}'", file,
                        PosixFilePermissions.toString(perms), file);
            }
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system, or the mode cannot be read: nothing useful to warn about.
        }
    }

    private static String computeKeyId(byte[] key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key);
            return HexFormat.of().formatHex(digest, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable in this Java runtime", e);
        }
    }
}
