package com.perseusproxy.core.statements;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * The proxy-named prepared statements one backend connection holds, least recently used first, so the proxy knows
 * when a client's statement must be prepared before use and which statement to close when the limit is reached.
 *
 * <p>It is updated when a message is sent (optimistically: the backend handles messages in order, so what was sent
 * before is what the next message finds) and corrected by the outcome of the replies: a failed or skipped Parse is
 * removed, a skipped Close is put back. Each statement carries the version it was prepared at (see
 * {@code KnownStatements#version}): one prepared before its plan went stale is prepared afresh. Not thread-safe: it
 * lives on its backend's event loop.
 */
public final class BackendStatements {

    /** The version of a statement known to exist but whose version is not: prepared afresh at its next use. */
    private static final int UNKNOWN_VERSION = -1;

    /** Access-ordered: iteration starts at the least recently used name. Values: the version prepared. */
    private final LinkedHashMap<String, Integer> names = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * Whose unnamed statement the session holds: the token of the client Parse("") sent last, or null when it holds
     * none or one the proxy cannot vouch for (a simple Query or a failed Parse dropped it). Only ever compared by
     * identity, so one client's token never matches another client's statement.
     */
    private Object unnamedOwner;

    /** Whether the session's unnamed statement is the one {@code owner} parsed (and nothing replaced it since). */
    public boolean holdsUnnamed(Object owner) {
        return owner != null && unnamedOwner == owner;
    }

    /** A Parse("") of {@code owner}'s statement was just sent. */
    public void unnamedParsed(Object owner) {
        unnamedOwner = owner;
    }

    /** The unnamed statement is gone or in doubt: a simple Query (PostgreSQL drops it), a Close, a failed Parse. */
    public void unnamedDropped() {
        unnamedOwner = null;
    }

    /** Like {@link #unnamedDropped()}, but only if the statement is still {@code owner}'s. */
    public void unnamedDropped(Object owner) {
        if (unnamedOwner == owner) {
            unnamedOwner = null;
        }
    }

    /**
     * Whether the backend has the statement at {@code version}; counts as a use for the LRU order. A statement held at
     * another version is forgotten (the caller prepares it again, closing the old one first).
     */
    public boolean use(String name, int version) {
        Integer held = names.get(name);
        if (held == null) {
            return false;
        }
        if (held != version) {
            names.remove(name);
            return false;
        }
        return true;
    }

    public boolean contains(String name) {
        return names.containsKey(name);
    }

    /**
     * Records a statement about to be prepared at {@code version} and returns the least recently used ones to close
     * first so that at most {@code limit} remain.
     */
    public List<String> add(String name, int version, int limit) {
        List<String> evicted = new ArrayList<>();
        names.remove(name);
        Iterator<String> eldest = names.keySet().iterator();
        while (names.size() >= Math.max(1, limit) && eldest.hasNext()) {
            evicted.add(eldest.next());
            eldest.remove();
        }
        names.put(name, version);
        return evicted;
    }

    /** The statement is known to exist (again), e.g. its Close was skipped; it is prepared afresh at its next use. */
    public void restore(String name) {
        names.put(name, UNKNOWN_VERSION);
    }

    /** The statement does not exist (its Parse failed or was skipped), or must not be trusted (its plan is stale). */
    public void remove(String name) {
        names.remove(name);
    }

    /** The backend lost all its prepared statements (DISCARD ALL, DEALLOCATE ALL). */
    public void clear() {
        names.clear();
    }

    public int size() {
        return names.size();
    }

    /** The names, least recently used first (for tests and diagnostics). */
    public List<String> names() {
        return new ArrayList<>(names.keySet());
    }
}
