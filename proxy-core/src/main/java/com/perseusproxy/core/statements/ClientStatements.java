package com.perseusproxy.core.statements;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The named prepared statements one client has created, by the names it gave them, with what the proxy needs to
 * create each on any backend: its definition (query text and parameter types, exactly as the client's Parse carried
 * them) and the name it has on backends.
 *
 * <p>The backend name is derived from the tenant's search_path and the definition, so the same tenant's clients share
 * a backend statement while two tenants never do: PostgreSQL plans a statement against the tables its search_path
 * resolved, and a statement prepared for one tenant's schema would read the wrong tables, or fail with "cached plan
 * must not change result type", when run for another.
 */
final class ClientStatements {

    /** Prefix of every backend statement name the proxy chooses. */
    static final String BACKEND_PREFIX = "perseus_";

    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(() -> {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    });

    /** One client statement; compared by identity, so a re-Parse under the same name is a different one. */
    static final class Definition {
        final String backendName;
        final byte[] body;

        Definition(String backendName, byte[] body) {
            this.backendName = backendName;
            this.body = body;
        }
    }

    private final String searchPath;
    private final Map<String, Definition> byName = new HashMap<>();
    /** Definitions whose Parse has not been answered yet (a DEALLOCATE ALL answered before it does not drop them). */
    private final Set<Definition> inFlight = Collections.newSetFromMap(new IdentityHashMap<>());

    /** @param searchPath what points the tenant's sessions at its schema; part of every backend name */
    ClientStatements(String searchPath) {
        this.searchPath = searchPath;
    }

    /** A new definition for a client Parse, named for the backend (not yet recorded). */
    Definition define(byte[] body) {
        return new Definition(backendName(searchPath, body), body);
    }

    static String backendName(String searchPath, byte[] body) {
        MessageDigest sha = SHA256.get();
        sha.reset();
        sha.update(searchPath.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(body);
        // 128 bits: collisions are out of reach; 40 characters stay under PostgreSQL's 63-byte name limit.
        return BACKEND_PREFIX + HexFormat.of().formatHex(sha.digest(), 0, 16);
    }

    Definition get(String name) {
        return byName.get(name);
    }

    /** Records a client Parse whose answer is still to come. */
    void parsing(String name, Definition definition) {
        byName.put(name, definition);
        inFlight.add(definition);
    }

    /** The Parse of {@code definition} has been answered (or will never be). */
    void settled(Definition definition) {
        inFlight.remove(definition);
    }

    /** The Parse failed or was skipped: the name is free again, unless it was re-used meanwhile. */
    void forget(String name, Definition definition) {
        settled(definition);
        if (byName.get(name) == definition) {
            byName.remove(name);
        }
    }

    /** A client Close: the name is free; returns what it named, or null if the client holds no such name. */
    Definition close(String name) {
        return byName.remove(name);
    }

    /** The Close was skipped after an error, so the name still holds. */
    void restore(String name, Definition definition) {
        byName.put(name, definition);
    }

    /** DEALLOCATE ALL or DISCARD ALL completed: every name created before it is gone. */
    void clearSettled() {
        byName.values().removeIf(definition -> !inFlight.contains(definition));
    }

    int size() {
        return byName.size();
    }
}
