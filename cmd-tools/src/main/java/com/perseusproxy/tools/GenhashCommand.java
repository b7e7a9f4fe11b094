package com.perseusproxy.tools;

import com.perseusproxy.core.auth.EasyScrypt;

import java.io.IOException;
import java.util.List;

/**
 * {@code genhash [-password P]} prints the easy-scrypt hash for {@code source_pass_hashed}, as Perseus's genhash
 * does. {@code genhash -verify -hash H [-password P]} checks a password against a stored hash instead: exit 0 when it
 * matches, 1 when not (or when H is not a usable hash), so an operator can test a row.
 */
final class GenhashCommand {

    private GenhashCommand() {
    }

    /**
     * A PostgreSQL-format SCRAM-SHA-256 verifier. {@code -salt_of V} reuses an existing verifier's salt and iteration
     * count, so that the proxy can check both in one exchange while a password is rotated (SCRAM sends one salt).
     */
    static String scramVerifier(GoFlags flags, String password) throws UsageException {
        byte[] salt = null;
        int iterations = com.perseusproxy.core.auth.ScramVerifier.DEFAULT_ITERATIONS;
        if (flags.has("salt_of")) {
            String existing = flags.get("salt_of").orElse("");
            com.perseusproxy.core.auth.ScramVerifier old = com.perseusproxy.core.auth.ScramVerifier.parse(existing)
                    .orElseThrow(() -> new UsageException("-salt_of must be a SCRAM-SHA-256$<iterations>:<salt>$..."
                            + " verifier"));
            salt = old.salt();
            iterations = old.iterations();
        }
        return com.perseusproxy.core.auth.ScramVerifier.create(password, iterations, salt).encode();
    }

    static int run(String[] args, Io io) throws UsageException, IOException {
        GoFlags flags = GoFlags.parse(args, 1, List.of("password", "verify", "hash", "scram", "salt_of"),
                List.of("verify", "scram"));
        if (flags.helpRequested()) {
            io.err().print(PerseusTools.usage());
            return PerseusTools.OK;
        }
        if (!flags.isSet("verify")) {
            if (flags.has("hash")) {
                throw new UsageException("-hash is only used with -verify: genhash -verify -hash H [-password P]");
            }
            if (flags.isSet("scram")) {
                io.out().println(scramVerifier(flags, password(flags, io)));
                return PerseusTools.OK;
            }
            if (flags.has("salt_of")) {
                throw new UsageException("-salt_of is only used with -scram");
            }
            io.out().println(EasyScrypt.hash(password(flags, io)));
            return PerseusTools.OK;
        }
        String hash = flags.require("hash", "give the stored source_pass_hashed to check, e.g. -hash \"$HASH\"");
        if (!EasyScrypt.isWellFormed(hash)) {
            io.err().println("genhash: the hash is not a usable easy-scrypt hash (base64 of key, 16-byte salt, N, r, "
                    + "p and a SHA-256 check, with affordable costs): regenerate it with 'perseus-tools genhash'");
            return PerseusTools.FAILED;
        }
        if (EasyScrypt.verify(password(flags, io), hash)) {
            io.err().println("genhash: the password matches the hash");
            return PerseusTools.OK;
        }
        io.err().println("genhash: the password does NOT match the hash");
        return PerseusTools.FAILED;
    }

    private static String password(GoFlags flags, Io io) throws UsageException, IOException {
        return io.passwords().read(flags.get("password"), "Password", "-password", false);
    }
}
