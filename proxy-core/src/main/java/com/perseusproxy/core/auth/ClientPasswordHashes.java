package com.perseusproxy.core.auth;

import java.util.ArrayList;
import java.util.List;

/**
 * The client passwords a tenant accepts: {@code source_pass_hashed} holds one easy-scrypt hash, or several separated
 * by commas while a client-side rotation is under way (base64 has no comma, so a single hash reads as before). An
 * operator rotates in three steps: append the new hash, move the applications, drop the old hash.
 *
 * <p>{@link #match} checks every usable hash even after one matched, so how long a login takes depends on how many
 * hashes the row holds, never on which one matched. Positions are 1-based, in the order stored, and are what the log
 * shows - never the hash.
 */
final class ClientPasswordHashes {

    /** No hash matched. */
    static final int NO_MATCH = 0;

    private final List<String> usable;
    private final List<Integer> positions;
    private final int unusable;

    private ClientPasswordHashes(List<String> usable, List<Integer> positions, int unusable) {
        this.usable = usable;
        this.positions = positions;
        this.unusable = unusable;
    }

    static ClientPasswordHashes parse(String sourcePassHashed) {
        List<String> usable = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        int unusable = 0;
        if (sourcePassHashed != null) {
            String[] parts = sourcePassHashed.split(",", -1);
            for (int i = 0; i < parts.length; i++) {
                String hash = parts[i].strip();
                if (hash.isEmpty() && parts.length > 1) {
                    continue; // a stray comma (e.g. left over after dropping a hash) is harmless
                }
                if (ScramVerifier.looksLikeVerifier(hash)) {
                    continue; // checked by the SCRAM exchange, not here (see verifiers())
                }
                if (EasyScrypt.isWellFormed(hash)) {
                    usable.add(hash);
                    positions.add(i + 1);
                } else {
                    unusable++;
                }
            }
        }
        return new ClientPasswordHashes(List.copyOf(usable), List.copyOf(positions), unusable);
    }

    /**
     * The SCRAM verifiers of the row that one exchange can check: the first one and those sharing its salt and
     * iteration count (SCRAM tells the client one salt), with their 1-based positions. Others are ignored until the
     * ones before them are removed; the tenant tool writes new verifiers with the existing salt for that reason.
     */
    static java.util.LinkedHashMap<ScramVerifier, Integer> verifiers(String sourcePassHashed) {
        java.util.LinkedHashMap<ScramVerifier, Integer> usable = new java.util.LinkedHashMap<>();
        if (sourcePassHashed == null) {
            return usable;
        }
        String[] parts = sourcePassHashed.split(",", -1);
        ScramVerifier first = null;
        for (int i = 0; i < parts.length; i++) {
            if (!ScramVerifier.looksLikeVerifier(parts[i].strip())) {
                continue;
            }
            java.util.Optional<ScramVerifier> parsed = ScramVerifier.parse(parts[i]);
            if (parsed.isEmpty()) {
                continue;
            }
            if (first == null) {
                first = parsed.get();
            }
            if (first.sameSalt(parsed.get())) {
                usable.putIfAbsent(parsed.get(), i + 1);
            }
        }
        return usable;
    }

    /** Whether at least one hash can be checked; if not, nobody can log in until the row is fixed. */
    boolean anyUsable() {
        return !usable.isEmpty();
    }

    /** Hashes that are not valid easy-scrypt and are ignored (the operator should fix them). */
    int unusableCount() {
        return unusable;
    }

    int usableCount() {
        return usable.size();
    }

    /**
     * @return the 1-based position in {@code source_pass_hashed} of the hash the password matches, or
     *     {@link #NO_MATCH}
     */
    int match(String password) {
        int matched = NO_MATCH;
        for (int i = 0; i < usable.size(); i++) {
            // No early exit: see the class comment.
            if (EasyScrypt.verify(password, usable.get(i)) && matched == NO_MATCH) {
                matched = positions.get(i);
            }
        }
        return matched;
    }
}
