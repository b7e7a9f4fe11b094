package com.perseusproxy.core.tls;

import com.perseusproxy.core.config.ConfigException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads PEM certificates and private keys, the files PostgreSQL itself uses ({@code server.crt}, {@code server.key},
 * {@code root.crt}). Blocking file I/O: called at start-up and on reload, never on an event loop. Messages name the
 * config key and the path, never the file's contents.
 */
final class PemFiles {

    private static final Logger log = LoggerFactory.getLogger(PemFiles.class);
    private static final Pattern KEY_BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z ]*)PRIVATE KEY-----([^-]*)-----END \\1PRIVATE KEY-----");
    /** DER of AlgorithmIdentifier { rsaEncryption, NULL }, for wrapping a PKCS#1 RSA key into PKCS#8. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
        (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

    private PemFiles() {
    }

    /** Every certificate in a PEM file (a chain: the leaf first; or a CA bundle). */
    static List<X509Certificate> certificates(Path file, String key) throws ConfigException {
        byte[] bytes = read(file, key);
        try {
            List<X509Certificate> certificates = new ArrayList<>();
            CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))
                    .forEach(c -> certificates.add((X509Certificate) c));
            if (certificates.isEmpty()) {
                throw new CertificateException("no certificate");
            }
            return certificates;
        } catch (CertificateException e) {
            throw new ConfigException(key + " " + file + " holds no readable certificate: it must be PEM"
                    + " ('-----BEGIN CERTIFICATE-----' blocks)");
        }
    }

    /**
     * An unencrypted PEM private key: PKCS#8 ({@code BEGIN PRIVATE KEY}, what {@code openssl genpkey} writes) or
     * PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}, older openssl). A key readable by other users is accepted with a
     * warning, where PostgreSQL would refuse to start: the proxy is often run from a container volume whose modes it
     * cannot choose.
     */
    static PrivateKey privateKey(Path file, String key) throws ConfigException {
        warnIfReadableByOthers(file, key);
        String text = new String(read(file, key), StandardCharsets.US_ASCII);
        if (text.contains("ENCRYPTED")) {
            throw new ConfigException(key + " " + file + " is an encrypted private key, and the proxy has no"
                    + " passphrase setting; decrypt it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.plain");
        }
        Matcher m = KEY_BLOCK.matcher(text);
        if (!m.find()) {
            throw new ConfigException(key + " " + file + " holds no PEM private key ('-----BEGIN PRIVATE KEY-----');"
                    + " convert it with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        String kind = m.group(1).strip();
        byte[] der;
        try {
            der = Base64.getMimeDecoder().decode(m.group(2));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(key + " " + file + " has a damaged PEM private key (invalid base64)");
        }
        if (kind.equals("RSA")) {
            der = pkcs1ToPkcs8(der);
        } else if (!kind.isEmpty()) {
            throw new ConfigException(key + " " + file + " is a '" + kind + " PRIVATE KEY'; convert it to PKCS#8"
                    + " with: openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8");
        }
        for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new ConfigException(key + " " + file + " holds a private key of a type the proxy cannot use"
                + " (RSA, EC and Ed25519 are supported)");
    }

    /** Fails unless {@code key} is the private half of the certificate's public key (a swapped file, say). */
    static void checkPair(X509Certificate certificate, PrivateKey key, String where) throws ConfigException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null;
        };
        if (algorithm == null) {
            return; // nothing to compare with here; the handshake will tell
        }
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another type than the certificate's: not a pair
        }
        throw new ConfigException(where + ": the private key does not belong to the first certificate of the"
                + " certificate file; check that CertFile and KeyFile were issued together");
    }

    private static byte[] read(Path file, String key) throws ConfigException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ConfigException("cannot read " + key + " " + file + " (" + e.getClass().getSimpleName()
                    + "): check the path and that the proxy's user may read it");
        }
    }

    private static void warnIfReadableByOthers(Path file, String key) {
        try {
            Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(file);
            if (permissions.contains(PosixFilePermission.GROUP_READ)
                    || permissions.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("{} {} can be read by other users; restrict it (chmod 600)", key, file);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system, or unreadable: read() reports the latter
        }
    }

    /** PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING pkcs1 }: the JDK reads only PKCS#8. */
    private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM);
        body.write(0x04);
        writeLength(body, pkcs1.length);
        body.writeBytes(pkcs1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x30);
        writeLength(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
            return;
        }
        int bytes = length > 0xffffff ? 4 : length > 0xffff ? 3 : length > 0xff ? 2 : 1;
        out.write(0x80 | bytes);
        for (int i = bytes - 1; i >= 0; i--) {
            out.write(length >>> (8 * i));
        }
    }
}
