package com.perseusproxy.core.backend;

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
 * removed, a skipped Close is put back. Not thread-safe: it lives on its backend's event loop.
 */
public final class BackendStatements {

    /** Access-ordered: iteration starts at the least recently used name. */
    private final LinkedHashMap<String, Boolean> names = new LinkedHashMap<>(16, 0.75f, true);

    /** Whether the backend has the statement; counts as a use for the LRU order. */
    public boolean use(String name) {
        return names.get(name) != null;
    }

    public boolean contains(String name) {
        return names.containsKey(name);
    }

    /**
     * Records a statement about to be prepared and returns the least recently used ones to close first so that at
     * most {@code limit} remain.
     */
    public List<String> add(String name, int limit) {
        List<String> evicted = new ArrayList<>();
        names.remove(name);
        Iterator<String> eldest = names.keySet().iterator();
        while (names.size() >= Math.max(1, limit) && eldest.hasNext()) {
            evicted.add(eldest.next());
            eldest.remove();
        }
        names.put(name, Boolean.TRUE);
        return evicted;
    }

    /** The statement is known to exist (again), e.g. its Close was skipped. */
    public void restore(String name) {
        names.put(name, Boolean.TRUE);
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
