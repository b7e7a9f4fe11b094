package com.perseusproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The messages of one socket read share one clock reading, and the next read reads the clock again: a stale reading
 * would start a later query's timeout clock in the past.
 */
class ClientTimeoutsClockTest {

    @Test
    void oneReadingPerReadAndAFreshOneForTheNext() throws InterruptedException {
        ClientTimeouts timeouts = new ClientTimeouts();
        long first = timeouts.onClientMessage();
        Thread.sleep(2);
        assertEquals(first, timeouts.onClientMessage(), "same read: same reading");
        timeouts.clientReadComplete();
        long next = timeouts.onClientMessage();
        assertTrue(next - first >= 2_000_000, "the next read reads the clock again");
    }
}
