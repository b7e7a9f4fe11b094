package com.perseusproxy.server.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.secrets.FakeKms;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Perseus's metric names, labels and meanings on {@code /metrics}, build information on {@code /health}, and no
 * secret in either, read over HTTP from a running proxy after real transactions.
 */
class MetricsEndpointTest {

    static final List<String> GAUGES = List.of("perseus_max_open_connections", "perseus_open_connections",
            "perseus_in_use_connections", "perseus_idle_connections");
    static final List<String> COUNTERS = List.of("perseus_wait_count_total", "perseus_wait_duration_seconds_total",
            "perseus_max_idle_closed_total", "perseus_max_idle_time_closed_total",
            "perseus_max_lifetime_closed_total", "perseus_client_parse_count_total", "perseus_server_parse_count_total",
            "perseus_pool_tenant_switches_total");
    /**
     * A sample of a Perseus pool family. The Prometheus Java client writes labels sorted by name, so {@code dest_db}
     * comes before {@code dest_host} (Prometheus itself ignores label order), and it writes values as doubles
     * ({@code 3.0}).
     */
    static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)\\{dest_db=\"([^\"]*)\",dest_host=\"([^\"]*)\"} (-?[0-9.]+(?:E-?[0-9]+)?)");
    /** Any sample line of the text format: the families beyond Perseus's have other labels, or none. */
    static final Pattern ANY_SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\]|\\\\.)*\"(?:,[a-zA-Z_][a-zA-Z0-9_]*="
                    + "\"(?:[^\"\\\\]|\\\\.)*\")*})? (-?[0-9.]+(?:E[-+]?[0-9]+)?|\\+Inf|-Inf|NaN)");

    /** The proxy-wide counters (the login throttle's), which have no pool labels. */
    static final Pattern PROXY_SAMPLE = Pattern.compile(
            "perseus_login_(failures|throttle_refused)_total [0-9]+");

    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void poolMetricsHavePerseusNamesLabelsAndPlausibleValues() throws Exception {
        SampleTenant tenant = Fixtures.TENANT_A;
        Target target = Targets.viaProxy(tenant, "127.0.0.1", DropInProxy.port());
        try (Connection c = target.connect(); Statement st = c.createStatement()) {
            for (int i = 0; i < 5; i++) {
                st.execute("select count(*) from notes");
            }
        }
        // pgjdbc switches to a named server-side statement from the fifth execution on.
        try (Connection c = target.connectWithNamedStatements();
             java.sql.PreparedStatement ps = c.prepareStatement("select count(*) from notes where id > ?")) {
            for (int i = 0; i < 8; i++) {
                ps.setInt(1, i);
                ps.executeQuery().close();
            }
        }
        String destHost = Fixtures.backend().destHost(); // 127.0.0.1:<port>: not the default port, so written
        Map<String, Double> values = Map.of();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        // Connection counts are sampled once a second on the pool's event loop.
        while (System.nanoTime() < deadline) {
            values = samples(get("/metrics").body(), destHost, TestPostgres.APP_DB);
            if (values.getOrDefault("perseus_open_connections", 0.0) >= 1) {
                break;
            }
            Thread.sleep(200);
        }
        assertEquals((double) DropInProxy.MAX_OPEN, values.get("perseus_max_open_connections"), values.toString());
        double open = values.get("perseus_open_connections");
        double idle = values.get("perseus_idle_connections");
        double inUse = values.get("perseus_in_use_connections");
        assertTrue(open >= 1 && open <= DropInProxy.MAX_OPEN, values.toString());
        assertTrue(idle >= 0 && idle <= open, values.toString());
        assertEquals(open - idle, inUse, values.toString());
        for (String counter : COUNTERS) {
            assertTrue(values.get(counter) >= 0, counter + " in " + values);
        }
        assertTrue(values.get("perseus_client_parse_count_total") >= 1, values.toString());
        assertTrue(values.get("perseus_server_parse_count_total") >= 1, values.toString());

        HttpResponse<String> response = get("/metrics");
        assertEquals(200, response.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8",
                response.headers().firstValue("Content-Type").orElse(""));
        String body = response.body();
        for (String gauge : GAUGES) {
            assertTrue(body.contains("# TYPE " + gauge + " gauge\n"), gauge);
            assertTrue(body.contains("# HELP " + gauge + " "), gauge);
        }
        for (String counter : COUNTERS) {
            assertTrue(body.contains("# TYPE " + counter + " counter\n"), counter);
            assertTrue(body.contains("# HELP " + counter + " "), counter);
        }
        for (String line : body.split("\n")) {
            assertTrue(line.startsWith("# HELP ") || line.startsWith("# TYPE ") || ANY_SAMPLE.matcher(line).matches(),
                    "not a valid exposition line: " + line);
            String name = line.startsWith("#") ? "" : line.split("[{ ]", 2)[0];
            if (GAUGES.contains(name) || COUNTERS.contains(name)) {
                assertTrue(SAMPLE.matcher(line).matches(), "a Perseus family with other labels: " + line);
            }
        }
        assertFalse(body.contains("perseus_tenant_"), "per-tenant series are off by default");
    }

    @Test
    void healthReportsBuildInformationAsPerseusDoes() throws Exception {
        HttpResponse<String> response = get("/health");
        assertEquals(200, response.statusCode());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
        JsonNode health = new ObjectMapper().readTree(response.body());
        assertTrue(health.path("build_version").asText().matches("\\d+\\.\\d+\\.\\d+.*"), response.body());
        for (String field : List.of("commit_hash", "build_date", "java_version")) {
            assertFalse(health.path(field).asText().isEmpty(), field + " in " + response.body());
        }
    }

    @Test
    void onlyGetOfTheTwoPathsIsServed() throws Exception {
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/metricsx").statusCode());
        assertEquals(404, get("/health/more").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
    }

    @Test
    void noSecretInMetricsOrHealth() throws Exception {
        // Logins of every kind first, so every pool and every code path has had its secrets in hand.
        new KmsDropInTest().encpassOutputInARowServesTheTenant();
        for (SampleTenant fixture : Fixtures.ALL) {
            KmsDropInTest.selectOne(Targets.viaProxy(fixture, "127.0.0.1", DropInProxy.port()));
        }
        List<String> secrets = new ArrayList<>(List.of(DropInProxy.DSN_PASSWORD, FakeKms.SECRET_ACCESS_KEY,
                TestPostgres.APP_OWNER.password(), TestPostgres.APP_MD5.password(), TestPostgres.APP_PLAIN.password(),
                "kms-first-pw"));
        for (SampleTenant fixture : Fixtures.ALL) {
            secrets.add(fixture.password());
        }
        for (String path : List.of("/metrics", "/health")) {
            String body = get(path).body();
            for (String secret : secrets) {
                assertFalse(body.contains(secret), path + " shows a secret");
            }
            assertFalse(body.contains("local:v1:") || body.contains("perseus-local-key"), path);
        }
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + DropInProxy.metricsPort() + path);
    }

    /** The value of each family for one (dest_host, dest_db). */
    private static Map<String, Double> samples(String body, String destHost, String destDb) {
        Map<String, Double> values = new HashMap<>();
        for (String line : body.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (m.matches() && m.group(3).equals(destHost) && m.group(2).equals(destDb)) {
                values.put(m.group(1), Double.parseDouble(m.group(4)));
            }
        }
        return values;
    }
}
