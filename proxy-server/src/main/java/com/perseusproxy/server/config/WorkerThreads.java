package com.perseusproxy.server.config;

/**
 * The top-level key {@code WorkerThreads}: how many data event loops serve clients. Each loop owns the sessions it
 * was given at accept and one slice of every pool (see docs/ARCHITECTURE.md, Threads), so nothing on the data path
 * takes a lock whatever the count.
 */
public final class WorkerThreads {

    /**
     * What 0 (the default) means. One loop won on the 2-core machine the proxy is measured on, where pgbench and
     * PostgreSQL share the cores with the proxy (docs/BENCHMARKS.md, "One data loop or two").
     */
    public static final int DEFAULT = 1;

    private WorkerThreads() {
    }

    /** The number of data loops to run for a configured value (0 = {@link #DEFAULT}). */
    public static int resolve(int configured) {
        return configured > 0 ? configured : DEFAULT;
    }
}
