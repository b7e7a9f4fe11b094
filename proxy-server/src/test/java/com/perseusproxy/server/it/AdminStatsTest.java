package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SHOW STATS / STATS_TOTALS / STATS_AVERAGES measure what PgBouncer's do: transactions, queries (one per
 * ReadyForQuery), bytes from and to clients, time in transactions and queries, and time clients waited. A real
 * tenant session runs a known workload through the proxy, and the counters must move by what it did: counts and
 * bytes exactly, times within the bounds the workload's own sleeps set.
 */
class AdminStatsTest {

    private static final List<String> COLUMNS = List.of("xact_count", "query_count", "bytes_received", "bytes_sent",
            "xact_time", "query_time", "wait_time");

    private static AdminBed bed;

    @BeforeAll
    static void start() {
        bed = AdminBed.start(1, ""); // one backend, so a second client has to wait
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void countersMoveByWhatTheClientDid() throws Exception {
        Target target = bed.tenant(Fixtures.TENANT_A);
        try (PgWire client = PgWire.open(target); PgWire waiter = PgWire.open(target);
             PgWire admin = bed.adminWire()) {
            client.login(target);
            waiter.login(target);
            client.simpleQuery("select 0"); // the password message's bytes are reported with the first transaction
            waiter.simpleQuery("select 0");
            admin.simpleQuery("SHOW STATS_AVERAGES"); // the averages' first sample
            Map<String, Long> before = totals(admin);
            long started = System.nanoTime();

            long sent = 0;
            long received = 0;
            for (int i = 0; i < 20; i++) {
                byte[] query = PgWire.message('Q', PgWire.cstring("select repeat('x', 1000)"));
                sent += query.length;
                client.send(query);
                received += frameBytes(client.readUntilReady(1));
            }
            // One transaction of three queries, 300 ms of it inside the query and 200 ms between queries.
            for (String sql : List.of("begin", "select pg_sleep(0.3)", "commit")) {
                byte[] query = PgWire.message('Q', PgWire.cstring(sql));
                sent += query.length;
                client.send(query);
                received += frameBytes(client.readUntilReady(1));
                if (sql.equals("begin")) {
                    Thread.sleep(200);
                }
            }
            byte[] extended = PgWire.extendedQuery("select 42");
            sent += extended.length;
            client.send(extended);
            received += frameBytes(client.readUntilReady(1)); // one Sync group: one query
            Map<String, Long> afterClient = totals(admin);

            assertEquals(22, afterClient.get("xact_count") - before.get("xact_count"), afterClient.toString());
            assertEquals(24, afterClient.get("query_count") - before.get("query_count"), afterClient.toString());
            assertEquals(sent, afterClient.get("bytes_received") - before.get("bytes_received"));
            assertEquals(received, afterClient.get("bytes_sent") - before.get("bytes_sent"));
            assertTrue(received > 20 * 1000, "the 20 results of 1000 bytes: " + received);
            long xactMicros = afterClient.get("xact_time") - before.get("xact_time");
            long queryMicros = afterClient.get("query_time") - before.get("query_time");
            long elapsedMicros = (System.nanoTime() - started) / 1000;
            assertTrue(queryMicros >= 300_000, "pg_sleep(0.3) is inside a query: " + queryMicros);
            assertTrue(xactMicros >= queryMicros + 200_000, "the 200 ms between queries of the transaction count"
                    + " as transaction time, not query time: xact " + xactMicros + ", query " + queryMicros);
            assertTrue(xactMicros <= elapsedMicros, "xact_time " + xactMicros + " > elapsed " + elapsedMicros);

            // A waiter: the only backend is held by an open transaction for 500 ms.
            client.simpleQuery("begin");
            waiter.send(PgWire.message('Q', PgWire.cstring("select 1")));
            Thread.sleep(500);
            client.simpleQuery("commit");
            assertEquals(List.of("1"), PgWire.firstColumn(waiter.readUntilReady(1)));
            Map<String, Long> afterWait = totals(admin);
            long waitMicros = afterWait.get("wait_time") - afterClient.get("wait_time");
            assertTrue(waitMicros >= 250_000, "the waiter waited about 500 ms: " + waitMicros);
            assertTrue(waitMicros <= (System.nanoTime() - started) / 1000, "wait_time " + waitMicros);

            // SHOW STATS's total_* columns are the same counters.
            List<PgWire.Message> stats = admin.simpleQuery("SHOW STATS");
            assertEquals(String.valueOf(afterWait.get("xact_count")),
                    AdminBed.column(stats, "total_xact_count").get(0));
            assertEquals(String.valueOf(afterWait.get("bytes_sent")), AdminBed.column(stats, "total_sent").get(0));

            // Averages over the period since the first sample (at least 1 s ago): per transaction and per query
            // for the times, per second for the rest, as PgBouncer computes them.
            Thread.sleep(Math.max(0, 1100 - (System.nanoTime() - started) / 1_000_000));
            Map<String, Long> end = totals(admin);
            List<PgWire.Message> averages = admin.simpleQuery("SHOW STATS_AVERAGES");
            long xacts = end.get("xact_count") - before.get("xact_count");
            long queries = end.get("query_count") - before.get("query_count");
            assertEquals((end.get("xact_time") - before.get("xact_time")) / xacts,
                    Long.parseLong(AdminBed.column(averages, "xact_time").get(0)));
            assertEquals((end.get("query_time") - before.get("query_time")) / queries,
                    Long.parseLong(AdminBed.column(averages, "query_time").get(0)));
            assertTrue(Long.parseLong(AdminBed.column(averages, "query_count").get(0)) > 0, averages.toString());
            assertTrue(Long.parseLong(AdminBed.column(averages, "bytes_sent").get(0)) > 0, averages.toString());
        }
    }

    @Test
    void pgbenchLoadCountsOneQueryPerStatementInEitherProtocol(@TempDir Path dir) throws Exception {
        Path script = dir.resolve("two.sql");
        // Two statements per pgbench transaction, each its own autocommit transaction through the proxy.
        Files.writeString(script, "select 1;\nselect repeat('y', 100);\n");
        Target target = bed.tenant(Fixtures.TENANT_B);
        try (PgWire first = PgWire.open(target)) {
            first.login(target); // the pool exists from here, whichever test runs first
        }
        try (PgWire admin = bed.adminWire()) {
            for (String mode : List.of("simple", "extended")) {
                Map<String, Long> before = totals(admin);
                PgTools.Result bench = PgTools.run(PgTools.pgbench(target, "-n", "-M", mode, "-c", "2", "-j", "1",
                        "-t", "25", "-f", script.toString()), target, Duration.ofSeconds(120));
                assertTrue(bench.ok(), bench.describe());
                Map<String, Long> after = totals(admin);
                // 2 clients x 25 transactions x 2 statements; an extended-protocol statement is one Sync group.
                assertEquals(100, after.get("xact_count") - before.get("xact_count"), mode + ": " + after);
                assertEquals(100, after.get("query_count") - before.get("query_count"), mode + ": " + after);
                long sent = after.get("bytes_sent") - before.get("bytes_sent");
                assertTrue(sent > 50 * 100, mode + ": 50 results of 100 bytes at least: " + sent);
                assertTrue(after.get("bytes_received") - before.get("bytes_received") > 100 * 10, mode);
                long xactMicros = after.get("xact_time") - before.get("xact_time");
                long queryMicros = after.get("query_time") - before.get("query_time");
                assertTrue(queryMicros > 0 && queryMicros <= xactMicros, mode + ": query " + queryMicros
                        + " µs within xact " + xactMicros + " µs");
            }
        }
    }

    /** SHOW STATS_TOTALS of the one database the bed's tenants use. */
    private static Map<String, Long> totals(PgWire admin) {
        List<PgWire.Message> reply = admin.simpleQuery("SHOW STATS_TOTALS");
        List<List<String>> rows = AdminBed.rows(reply);
        assertEquals(1, rows.size(), "one database: " + rows);
        Map<String, Long> values = new HashMap<>();
        for (String column : COLUMNS) {
            values.put(column, Long.parseLong(AdminBed.column(reply, column).get(0)));
        }
        return values;
    }

    /** What the messages took on the wire: a type byte and a length word each, and the body. */
    private static long frameBytes(List<PgWire.Message> messages) {
        return messages.stream().mapToLong(m -> 5 + m.body().length).sum();
    }
}
