package com.perseusproxy.core.auth;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Starts {@code scripts/gen_scrypt_fixtures.py}, the independent easy-scrypt implementation (Python's hashlib.scrypt)
 * that cross-checks the proxy's hashes. Tests that need it are skipped, saying why, where python3 is not installed
 * (.ci/run installs it).
 */
public final class PythonScrypt {

    private PythonScrypt() {
    }

    /** @param mode {@code generate} (prints password/N/r/p/keylen/hash lines) or {@code verify} (reads them) */
    public static Process start(String mode) {
        Path script = Path.of("..", "scripts", "gen_scrypt_fixtures.py");
        Assumptions.assumeTrue(Files.exists(script), "scripts/gen_scrypt_fixtures.py not found: skipped");
        try {
            return new ProcessBuilder("python3", script.toString(), mode).start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed: cross-check with Python skipped");
            throw new IllegalStateException(e); // not reached: abort throws
        }
    }
}
