package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pgbench load for rotation tests: one pgbench process per target (a tenant, through some proxy), each with a few
 * clients for a fixed time, run in the background while the test rotates credentials. {@link #assertNoFailures}
 * waits for them and asserts that every client ran to the end with zero failed transactions.
 */
final class PgbenchLoad {

    private static final Pattern PROCESSED = Pattern.compile("number of transactions actually processed: (\\d+)");
    private static final Pattern FAILED = Pattern.compile("number of failed transactions: (\\d+)");

    private final ExecutorService runner;
    private final List<Future<PgTools.Result>> runs = new ArrayList<>();

    private PgbenchLoad(ExecutorService runner) {
        this.runner = runner;
    }

    /**
     * A schema of appdb owned by app_owner holding pgbench's tables (scale 1), made once: the rotation roles are
     * members of app_owner, so every account a test switches between can use them.
     */
    static synchronized void initSchema(String schema) {
        TestPostgres pg = Fixtures.postgres();
        pg.execute(TestPostgres.APP_DB, "CREATE SCHEMA IF NOT EXISTS " + schema + " AUTHORIZATION "
                + TestPostgres.APP_OWNER.name());
        if (pg.queryLong(TestPostgres.APP_DB, "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema
                + "' AND tablename = 'pgbench_accounts'") == 0) {
            Target owner = new Target(pg.host(), pg.port(), TestPostgres.APP_DB, TestPostgres.APP_OWNER.name(),
                    TestPostgres.APP_OWNER.password(), schema);
            PgTools.Result r = PgTools.run(PgTools.pgbench(owner, "-i", "-s", "1", "-q"), owner,
                    Duration.ofSeconds(120));
            assertTrue(r.ok(), r.describe());
        }
    }

    /** Starts {@code clients} pgbench clients per target for {@code seconds}. */
    static PgbenchLoad start(List<Target> targets, int clients, int seconds) {
        PgTools.require("pgbench");
        PgbenchLoad load = new PgbenchLoad(Executors.newFixedThreadPool(targets.size()));
        for (Target target : targets) {
            load.runs.add(load.runner.submit(() -> PgTools.run(PgTools.pgbench(target, "--no-vacuum",
                    "-c", String.valueOf(clients), "-j", "1", "-T", String.valueOf(seconds)), target,
                    Duration.ofSeconds(seconds + 120L))));
        }
        return load;
    }

    /** @return transactions processed in all; fails the test if any pgbench failed a transaction or a client */
    long assertNoFailures() throws Exception {
        long processed = 0;
        try {
            for (Future<PgTools.Result> run : runs) {
                PgTools.Result r = run.get(10, TimeUnit.MINUTES);
                assertTrue(r.ok(), "pgbench failed: " + r.describe());
                Matcher p = PROCESSED.matcher(r.stdout());
                assertTrue(p.find(), r.describe());
                processed += Long.parseLong(p.group(1));
                Matcher f = FAILED.matcher(r.stdout());
                if (f.find()) { // pgbench before 15 does not print it; its exit status covers failures then
                    assertEquals(0, Long.parseLong(f.group(1)), r.describe());
                }
                assertTrue(!r.stderr().contains("client ") || !r.stderr().contains("aborted"), r.describe());
            }
        } finally {
            runner.shutdownNow();
        }
        return processed;
    }

    /** Whether every pgbench has finished. */
    boolean done() {
        return runs.stream().allMatch(Future::isDone);
    }
}
