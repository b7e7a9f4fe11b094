package com.perseusproxy.server.config;

import java.nio.file.Path;

/**
 * {@code LocalKeySettings}: the local AES key file that decrypts {@code local:v1:...} values of
 * {@code dest_pass_enc} (made with {@code perseus-tools encpass}).
 *
 * @param keyFile {@code KeyFile}; null when not configured
 */
public record LocalKeySettings(Path keyFile) {

    public boolean configured() {
        return keyFile != null;
    }
}
