package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.server.config.MetricsSettings;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The families fed by the data path, written by the Prometheus client as /metrics shows them. */
class MetricsFamiliesTest {

    @Test
    void eventsMoveTheirSeries() throws Exception {
        MetricFamilies families = MetricFamilies.create(MetricsSettings.defaults());
        ProxyEvents events = families.events();
        events.login(ProxyEvents.LoginResult.OK);
        events.login(ProxyEvents.LoginResult.OK);
        events.login(ProxyEvents.LoginResult.ofSqlState("28P01"));
        events.timeout(ProxyEvents.Timeout.IDLE_IN_TRANSACTION);
        events.timeout(ProxyEvents.Timeout.QUERY_WAIT);
        events.rotation(ProxyEvents.Rotation.ACCOUNT_SWITCHED);
        events.rotation(ProxyEvents.Rotation.CONNECTION_RETIRED);
        ProxyEvents.Pool pool = events.pool(Destination.of("db1.internal:6432", "mm", "app_user"));
        pool.leased(0);
        pool.leased(2_000_000); // 2 ms
        pool.backendLogin(true);
        pool.backendLogin(false);
        ProxyEvents.Tenant tenant = events.tenant("mm", "tenant_a");
        tenant.transaction(3_000_000);
        tenant.query(1_000_000);
        tenant.query(1_500_000);
        tenant.bytes(100, 250);

        String text = scrape(families);
        assertTrue(text.contains("perseus_client_logins_total{result=\"ok\"} 2.0\n"), text);
        assertTrue(text.contains("perseus_client_logins_total{result=\"auth_failed\"} 1.0\n"), text);
        assertTrue(text.contains("perseus_client_logins_total{result=\"busy\"} 0.0\n"), "every result shown");
        assertTrue(text.contains("perseus_timeouts_total{kind=\"idle_in_transaction\"} 1.0\n"), text);
        assertTrue(text.contains("perseus_timeouts_total{kind=\"query_wait\"} 1.0\n"), text);
        assertTrue(text.contains("perseus_timeouts_total{kind=\"client_idle\"} 0.0\n"), text);
        assertTrue(text.contains("perseus_rotation_events_total{event=\"account_switched\"} 1.0\n"), text);
        assertTrue(text.contains("perseus_rotation_events_total{event=\"connection_retired\"} 1.0\n"), text);
        String dest = "dest_db=\"mm\",dest_host=\"db1.internal:6432\"";
        assertTrue(text.contains("perseus_backend_logins_total{" + dest + "} 1.0\n"), text);
        assertTrue(text.contains("perseus_backend_login_failures_total{" + dest + "} 1.0\n"), text);
        assertTrue(text.contains("perseus_pool_wait_duration_seconds_count{" + dest + "} 2\n"), text);
        assertTrue(text.contains("perseus_pool_wait_duration_seconds_bucket{" + dest + ",le=\"0.001\"} 1\n"), text);
        assertTrue(text.contains("perseus_transactions_total 1.0\n"), text);
        assertTrue(text.contains("perseus_transaction_duration_seconds_count 1\n"), text);
        assertTrue(text.contains("perseus_queries_total 2.0\n"), text);
        assertTrue(text.contains("perseus_query_duration_seconds_bucket{le=\"0.001\"} 1\n"), text);
        assertTrue(text.contains("perseus_query_duration_seconds_count 2\n"), text);
        assertTrue(text.contains("perseus_client_received_bytes_total 100.0\n"), text);
        assertTrue(text.contains("perseus_client_sent_bytes_total 250.0\n"), text);
        assertTrue(text.contains("# TYPE perseus_query_duration_seconds histogram\n"), text);
        assertFalse(text.contains("app_user"), "the backend user is never a label");
        assertFalse(text.contains("perseus_tenant_"), "per-tenant series are off by default");
        assertFalse(text.contains("tenant_a"), "per-tenant series are off by default");
        assertSame(tenant, events.tenant("mm", "tenant_b"), "one shared handle: nothing per tenant is kept");
    }

    @Test
    void perTenantSeriesWhenEnabledWithEscapedLabels() throws Exception {
        MetricFamilies families = MetricFamilies.create(new MetricsSettings(true));
        ProxyEvents events = families.events();
        events.tenant("mm", "tenant_a").transaction(1_000_000_000);
        ProxyEvents.Tenant odd = events.tenant("mm", "we\"ird\\name");
        odd.query(500_000_000);
        odd.bytes(7, 9);

        String text = scrape(families);
        assertTrue(text.contains("perseus_tenant_transactions_total{source_db=\"mm\",source_schema=\"tenant_a\"} 1.0\n"),
                text);
        assertTrue(text.contains(
                "perseus_tenant_transaction_seconds_total{source_db=\"mm\",source_schema=\"tenant_a\"} 1.0\n"), text);
        String odd1 = "{source_db=\"mm\",source_schema=\"we\\\"ird\\\\name\"}";
        assertTrue(text.contains("perseus_tenant_queries_total" + odd1 + " 1.0\n"), text);
        assertTrue(text.contains("perseus_tenant_query_seconds_total" + odd1 + " 0.5\n"), text);
        assertTrue(text.contains("perseus_tenant_client_received_bytes_total" + odd1 + " 7.0\n"), text);
        assertTrue(text.contains("perseus_tenant_client_sent_bytes_total" + odd1 + " 9.0\n"), text);
        // The proxy-wide series still count everyone.
        assertTrue(text.contains("perseus_transactions_total 1.0\n"), text);
        assertTrue(text.contains("perseus_queries_total 1.0\n"), text);
    }

    @Test
    void loginResultsBySqlState() {
        assertEquals(ProxyEvents.LoginResult.AUTH_FAILED, ProxyEvents.LoginResult.ofSqlState("28000"));
        assertEquals(ProxyEvents.LoginResult.BUSY, ProxyEvents.LoginResult.ofSqlState("53300"));
        assertEquals(ProxyEvents.LoginResult.SHUTDOWN, ProxyEvents.LoginResult.ofSqlState("57P01"));
        assertEquals(ProxyEvents.LoginResult.ERROR, ProxyEvents.LoginResult.ofSqlState("08P01"));
        assertEquals(ProxyEvents.LoginResult.ERROR, ProxyEvents.LoginResult.ofSqlState(null));
    }

    static String scrape(MetricFamilies families) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, families.registry().scrape(), EscapingScheme.ALLOW_UTF8);
        return out.toString(StandardCharsets.UTF_8);
    }
}
