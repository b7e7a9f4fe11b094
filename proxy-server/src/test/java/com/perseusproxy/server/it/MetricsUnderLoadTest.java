package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The series beyond Perseus's move under a real pgbench load through the proxy: scraped before and after, every
 * counter the load drives has grown. The proxy runs with {@code MetricsSettings.PerTenant} on, so the per-tenant
 * series appear too (MetricsEndpointTest checks they are absent by default), and none of it shows a secret.
 */
class MetricsUnderLoadTest {

    static final int CLIENTS = 6;
    static final int TRANSACTIONS_PER_CLIENT = 150; // long enough (over 1 s) for the 0.5 s state sweep to see the load
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void newSeriesMoveUnderPgbenchLoadAndShowNoSecret() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's metrics are what is tested");
        PgTools.require("pgbench");
        OpsReloadTest.initialisePgbench();
        // MaxOpen 2 for 6 clients: leases wait, so the pool-wait histogram sees real waits.
        String json = OpsProxy.config("127.0.0.1:0", OpsProxy.authDsn(), 2, "", ", \"MetricsAddress\": \"127.0.0.1:0\","
                + " \"MetricsSettings\": {\"PerTenant\": true}, \"ClientSettings\": {\"ClientIdleTimeoutSecs\": 1}");
        try (PerseusService proxy = OpsProxy.start(json)) {
            int metricsPort = proxy.metricsPort();
            Map<String, Double> before = samples(scrape(metricsPort));

            Target bench = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", proxy.port());
            Process load = PgTools.start(PgTools.pgbench(bench, "--no-vacuum", "-c", String.valueOf(CLIENTS),
                    "-j", "2", "-t", String.valueOf(TRANSACTIONS_PER_CLIENT)), bench);
            double busyClients = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (load.isAlive() && System.nanoTime() < deadline) {
                Map<String, Double> during = samples(scrape(metricsPort));
                busyClients = Math.max(busyClients, get(during, "perseus_client_connections{state=\"active\"}")
                        + get(during, "perseus_client_connections{state=\"waiting\"}")
                        + get(during, "perseus_client_connections{state=\"idle\"}"));
                Thread.sleep(100);
            }
            assertTrue(load.waitFor(60, TimeUnit.SECONDS), "pgbench finishes");
            String output = new String(load.getInputStream().readAllBytes());
            assertEquals(0, load.exitValue(), output);

            // A refused login and an idle client timed out, for the results and kinds beyond "ok".
            assertThrows(SQLException.class, () -> bench.withPassword("wrong-" + System.nanoTime()).connect().close());
            try (Connection idle = bench.connect()) {
                idle.createStatement().execute("select 1");
                Thread.sleep(2_500); // ClientIdleTimeoutSecs 1, swept every 0.5 s
            }

            Map<String, Double> after = Map.of();
            String body = "";
            long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < settle) {
                body = scrape(metricsPort);
                after = samples(body);
                if (get(after, "perseus_timeouts_total{kind=\"client_idle\"}") >= 1) {
                    break;
                }
                Thread.sleep(200);
            }
            int total = CLIENTS * TRANSACTIONS_PER_CLIENT;
            String dest = "{dest_db=\"" + TestPostgres.APP_DB + "\",dest_host=\"" + Fixtures.backend().destHost()
                    + "\"}";
            String tenant = "{source_db=\"" + TestPostgres.APP_DB + "\",source_schema=\"bench\"}";
            assertTrue(busyClients >= 1, "client connections by state seen during the load: " + busyClients);
            assertGrew(before, after, "perseus_client_logins_total{result=\"ok\"}", CLIENTS + 1);
            assertGrew(before, after, "perseus_client_logins_total{result=\"auth_failed\"}", 1);
            assertGrew(before, after, "perseus_timeouts_total{kind=\"client_idle\"}", 1);
            // pgbench's TPC-B-like script: BEGIN ... END is one transaction of 7 queries.
            assertGrew(before, after, "perseus_transactions_total", total);
            assertGrew(before, after, "perseus_transaction_duration_seconds_count", total);
            assertGrew(before, after, "perseus_queries_total", total * 7);
            assertGrew(before, after, "perseus_query_duration_seconds_count", total * 7);
            assertGrew(before, after, "perseus_client_received_bytes_total", total * 100);
            assertGrew(before, after, "perseus_client_sent_bytes_total", total * 100);
            assertGrew(before, after, "perseus_pool_wait_duration_seconds_count" + dest, total);
            assertGrew(before, after, "perseus_backend_logins_total" + dest, 1);
            assertGrew(before, after, "perseus_verified_login_cache_hits_total", 1);
            assertGrew(before, after, "perseus_verified_login_cache_misses_total", 1);
            assertTrue(get(after, "perseus_verified_login_cache_size") >= 1, body);
            assertTrue(after.containsKey("perseus_verified_login_cache_evictions_total"), body);
            assertTrue(get(after, "perseus_transaction_duration_seconds_sum") > 0, body);
            assertTrue(get(after, "perseus_open_connections" + dest) >= 1, "Perseus's names still there: " + body);
            assertGrew(before, after, "perseus_tenant_transactions_total" + tenant, total);
            assertGrew(before, after, "perseus_tenant_queries_total" + tenant, total * 7);
            assertGrew(before, after, "perseus_tenant_client_received_bytes_total" + tenant, total * 100);

            List<String> secrets = new ArrayList<>(List.of(TestPostgres.APP_OWNER.password(),
                    TestPostgres.APP_MD5.password(), TestPostgres.APP_PLAIN.password(), "local:v1:"));
            for (SampleTenant fixture : Fixtures.ALL) {
                secrets.add(fixture.password());
                secrets.add(fixture.user()); // not a secret, but per-tenant labels name schemas only, never users
            }
            secrets.addAll(TestPostgres.storedSecrets(Fixtures.postgres()));
            for (String secret : secrets) {
                assertFalse(body.contains(secret), "/metrics shows a secret or a user name");
            }
        }
    }

    private static void assertGrew(Map<String, Double> before, Map<String, Double> after, String series,
                                   double atLeast) {
        double grew = get(after, series) - get(before, series);
        assertTrue(grew >= atLeast, series + " grew by " + grew + ", expected at least " + atLeast + "; after: "
                + after);
    }

    private static double get(Map<String, Double> samples, String series) {
        return samples.getOrDefault(series, 0.0);
    }

    private String scrape(int port) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/metrics")).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode());
        return response.body();
    }

    /** Series (name with its labels, as written) to value. */
    static Map<String, Double> samples(String body) {
        Map<String, Double> values = new HashMap<>();
        for (String line : body.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int space = line.lastIndexOf(' ');
            values.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1)));
        }
        return values;
    }
}
