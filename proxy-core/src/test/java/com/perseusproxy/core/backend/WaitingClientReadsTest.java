package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A client waiting for a backend is still read (pausing and resuming it cost two epoll_ctl calls per wait), up to a
 * bound of queued messages and bytes, past which it stops being read until it holds a backend. On EmbeddedChannels
 * with scripted server replies (see {@link LeaseRig}).
 */
class WaitingClientReadsTest {

    /** WaitingMessages's bounds (MAX_MESSAGES_WHILE_WAITING, MAX_BYTES_WHILE_WAITING). */
    private static final int MESSAGE_BOUND = 64;
    private static final int BYTE_BOUND = 64 * 1024;

    private LeaseRig rig = new LeaseRig(1);

    @AfterEach
    void tearDown() {
        rig.close();
    }

    /** alice holds the pool's only backend in an open transaction, so everyone else waits. */
    private LeaseRig.Client aliceHoldsTheOnlyBackend() {
        LeaseRig.Client alice = rig.loggedIn("alice", "tenant_a");
        alice.send(PgWire.query("begin"));
        rig.server(0).complete('T', "BEGIN");
        alice.received();
        return alice;
    }

    private void aliceCommits(LeaseRig.Client alice) {
        alice.send(PgWire.query("commit"));
        rig.server(0).queries();
        rig.server(0).complete('I', "COMMIT");
        alice.received();
    }

    @Test
    void aClientThatSentOneQueryIsStillReadWhileItWaits() {
        LeaseRig.Client alice = aliceHoldsTheOnlyBackend();
        LeaseRig.Client waiter = rig.loggedIn("alice", "tenant_a");
        waiter.send(PgWire.query("select 'waits'"));
        assertEquals(1, rig.pool().waitingCount());
        assertTrue(waiter.channel.config().isAutoRead(), "one query queued: no reason to stop reading");

        aliceCommits(alice);
        assertEquals(List.of("select 'waits'"), rig.server(0).queries());
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", waiter.received().toString());
        assertTrue(waiter.channel.config().isAutoRead());
    }

    @Test
    void aClientThatPipelinesPastTheBoundWhileItWaitsStopsBeingReadUntilItHoldsABackend() {
        LeaseRig.Client alice = aliceHoldsTheOnlyBackend();
        LeaseRig.Client waiter = rig.loggedIn("alice", "tenant_a");
        waiter.send(PgWire.query("select 0"));
        List<String> sent = new ArrayList<>(List.of("select 0"));
        for (int i = 1; i < MESSAGE_BOUND; i++) {
            waiter.send(PgWire.query("select " + i));
            sent.add("select " + i);
        }
        assertTrue(waiter.channel.config().isAutoRead(), "still within the bound");
        waiter.send(PgWire.query("select past"));
        sent.add("select past");
        assertFalse(waiter.channel.config().isAutoRead(), "past the bound: the proxy stops reading this client");

        aliceCommits(alice);
        assertEquals(sent, rig.server(0).queries(), "everything it queued goes to the backend, in order");
        assertTrue(waiter.channel.config().isAutoRead(), "holding a backend, it is read again");
    }

    @Test
    void aClientThatQueuesManyBytesWhileItWaitsStopsBeingRead() {
        LeaseRig.Client alice = aliceHoldsTheOnlyBackend();
        LeaseRig.Client waiter = rig.loggedIn("alice", "tenant_a");
        String big = "select '" + "x".repeat(BYTE_BOUND) + "'";
        waiter.send(PgWire.query(big));
        assertFalse(waiter.channel.config().isAutoRead(), "one message past the byte bound is enough");

        aliceCommits(alice);
        assertEquals(List.of(big), rig.server(0).queries());
        assertTrue(waiter.channel.config().isAutoRead(), "holding a backend, it is read again");
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", waiter.received().toString());
    }

    @Test
    void aWaiterWhoseClientLeavesFreesNothingTwice() {
        LeaseRig.Client alice = aliceHoldsTheOnlyBackend();
        LeaseRig.Client gone = rig.loggedIn("alice", "tenant_a");
        gone.send(PgWire.query("select 'gone'"));
        assertEquals(1, rig.pool().waitingCount());
        gone.disconnect();
        rig.settle();

        aliceCommits(alice);
        rig.settle();
        assertEquals(1, rig.pool().openCount());
        assertEquals(1, rig.pool().idleCount(), "the backend went back to the idle list once, not to the departed");
        assertEquals(List.of(), rig.server(0).queries(), "nothing was sent for the client that left");

        LeaseRig.Client next = rig.loggedIn("alice", "tenant_a");
        next.send(PgWire.query("select 'next'"));
        assertEquals(List.of("select 'next'"), rig.server(0).queries());
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", next.received().toString());
        assertEquals(1, rig.pool().idleCount(), "and back once more");
        assertEquals(1, rig.pool().openCount());
        assertEquals(0, rig.pool().waitingCount());
    }

    @Test
    void aWaiterThatIsStillReadGivesUpAfterQueryWaitTimeout() throws InterruptedException {
        rig.close();
        rig = new LeaseRig(1, Duration.ofMillis(200));
        aliceHoldsTheOnlyBackend();
        LeaseRig.Client waiter = rig.loggedIn("alice", "tenant_a");
        waiter.send(PgWire.query("select 'waits'"));
        assertTrue(waiter.channel.config().isAutoRead());
        Thread.sleep(300);
        rig.settle();
        List<PgWire.Message> gaveUp = waiter.received();
        assertEquals('E', gaveUp.get(0).tag(), "the waiter gets an error: " + gaveUp);
        assertEquals("53300", gaveUp.get(0).field('C'));
        assertEquals(0, rig.pool().waitingCount());
    }
}
