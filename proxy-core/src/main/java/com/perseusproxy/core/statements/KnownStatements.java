package com.perseusproxy.core.statements;

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
 * <p>Each name also has a version, raised when a backend reports that the statement's plan went stale ("cached plan
 * must not change result type" after DDL): every backend of the pool holds the same stale plan, and comparing
 * versions makes each prepare it afresh at its next use instead of failing once more.
 *
 * <p>Bounded, least recently used forgotten first (a forgotten name's version restarts at 0, which at worst costs one
 * more stale-plan error). Used on the pool's event loop only.
 */
public final class KnownStatements {

    /** At ~60 bytes a name, about a megabyte at most. */
    static final int CAPACITY = 10_000;

    /** Name to version. */
    private final Map<String, Integer> names = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > CAPACITY;
        }
    };

    /** A backend parsed the statement successfully. */
    public void parsed(String backendName) {
        names.putIfAbsent(backendName, 0);
    }

    public boolean isKnown(String backendName) {
        return names.get(backendName) != null;
    }

    /** The current version of the statement; a backend holding another one must prepare it again. */
    public int version(String backendName) {
        return names.getOrDefault(backendName, 0);
    }

    /** The statement's plan went stale on a backend, and so on every backend of the pool. */
    public void invalidate(String backendName) {
        names.put(backendName, version(backendName) + 1);
    }

    public int size() {
        return names.size();
    }
}
