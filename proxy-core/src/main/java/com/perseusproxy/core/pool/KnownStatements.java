package com.perseusproxy.core.pool;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Backend statement names (one per tenant search path, query text and parameter types) that a backend of this pool
 * has parsed successfully, most recently used last. A client that parses such a statement outside a transaction is
 * answered by the proxy without taking a backend: clients that prepare synchronously while their other connections
 * hold every pooled backend (pgbench multiplexing clients on one thread) then cannot deadlock, and a routine
 * re-prepare costs no lease. The statement is still parsed on each backend before its first use there, so a
 * statement that stopped being valid (a dropped table) reports its error at Bind rather than at Parse.
 *
 * <p>Bounded, least recently used forgotten first. Used on the pool's event loop only.
 */
public final class KnownStatements {

    /** At ~60 bytes a name, about a megabyte at most. */
    static final int CAPACITY = 10_000;

    private final Map<String, Boolean> names = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > CAPACITY;
        }
    };

    public void parsed(String backendName) {
        names.put(backendName, Boolean.TRUE);
    }

    public boolean isKnown(String backendName) {
        return names.get(backendName) != null;
    }

    public int size() {
        return names.size();
    }
}
