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
}
