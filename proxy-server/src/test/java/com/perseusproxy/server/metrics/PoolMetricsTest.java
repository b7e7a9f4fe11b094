package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PoolMetricsTest {

    @Test
    void destHostIsWrittenAsInPerseusAuth() {
        assertEquals("db1.internal", PoolMetrics.destHostLabel(Destination.of("db1.internal", "mm", "u")));
        assertEquals("db1.internal", PoolMetrics.destHostLabel(Destination.of("db1.internal:5432", "mm", "u")));
        assertEquals("db1.internal:6432", PoolMetrics.destHostLabel(Destination.of("db1.internal:6432", "mm", "u")));
        assertEquals("[::1]:6432", PoolMetrics.destHostLabel(Destination.of("[::1]:6432", "mm", "u")));
        assertEquals("::1", PoolMetrics.destHostLabel(Destination.of("::1", "mm", "u")));
    }

    @Test
    void prometheusTextEscapesLabelsAndFormatsNumbers() {
        PrometheusText text = new PrometheusText();
        text.family("perseus_x_total", "counter", "Help with a \\ backslash.");
        text.sample("perseus_x_total", 3, "dest_host", "h", "dest_db", "a\"b\\c\nd");
        text.sample("perseus_x_total", 0.25, "dest_host", "h", "dest_db", "e");
        assertEquals("""
                # HELP perseus_x_total Help with a \\\\ backslash.
                # TYPE perseus_x_total counter
                perseus_x_total{dest_host="h",dest_db="a\\"b\\\\c\\nd"} 3
                perseus_x_total{dest_host="h",dest_db="e"} 0.25
                """, text.toString());
    }
}
