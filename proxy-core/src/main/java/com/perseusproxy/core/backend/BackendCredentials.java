package com.perseusproxy.core.backend;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A backend login. {@link #toString()} shows only a fingerprint of the password, never the password. */
public record BackendCredentials(String user, String password) {

    /** First 8 hex digits of SHA-256(user NUL password): tells two secrets apart without revealing either. */
    public String fingerprint() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(user.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(password.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest(), 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return user + "/secret:" + fingerprint();
    }
}
