package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ways a lease ends other than a clean ReadyForQuery, on the real session, pool and connection over
 * {@link io.netty.channel.embedded.EmbeddedChannel}s: a client that leaves mid-query, mid-group or mid-COPY
 * ({@link ReleaseHold}'s cleanup), a cancel still in flight when the lease is over (its hold), a cleanup or a lease
 * setup that the server never answers (their deadlines), resets that keep failing (the session's retry limit), and a
 * client's SET (what {@link CommandTagEffects} makes the next lease send).
 */
class LeaseEndingsOnEmbeddedChannelsTest {

    private LeaseRig rig = new LeaseRig(1);

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private LeaseRig.Client loggedIn(String user, String schema) {
        return rig.loggedIn(user, schema);
    }

    @Test
    void aClientThatLeavesMidQueryGetsItCancelledAndTheConnectionWaitsForTheCancelBeforeServingAgain() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("select pg_sleep(60)"));
        assertEquals(List.of("select pg_sleep(60)"), server.queries());

        alice.disconnect();
        assertEquals(List.of(server.connection), rig.cancels, "the running query is cancelled");
        LeaseRig.Client next = loggedIn("alice", "tenant_a");
        next.send(PgWire.query("select 2"));
        server.reply(PgWire.error("57014", "canceling statement due to user request"), PgWire.readyForQuery('I'));
        assertEquals("being_canceled", server.connection.consoleState(),
                "drained, but the cancel may still arrive: held out of the pool");
        assertEquals(List.of(), server.queries(), "the next client's statement must not run where a cancel can hit it");
        assertEquals(List.of(), next.received(), "the departed client's replies reach no one");

        server.connection.cancelFinished(); // the server closed the cancel connection: delivered
        assertEquals(List.of("select 2"), server.queries(), "served once the cancel is delivered");
        server.complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", next.received().toString());
        assertEquals(1, rig.pool().idleCount());
    }

    @Test
    void aLeaseThatEndsCleanlyWhileACancelIsInFlightIsHeldUntilItIsDelivered() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("select 1"));
        server.queries();
        server.connection.cancelStarted(); // a CancelRequest for alice is on its way to the server
        server.complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", alice.received().toString(), "alice gets her result as usual");
        assertEquals(0, rig.pool().idleCount(), "not back in the pool while the cancel may still arrive");
        assertEquals("being_canceled", server.connection.consoleState());

        server.connection.cancelFinished();
        assertEquals(1, rig.pool().idleCount(), "delivered: back in the pool");
        assertEquals("idle", server.connection.consoleState());
    }

    @Test
    void aClientThatLeavesInsideAnExtendedGroupGetsTheSyncItOwed() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.concat(PgWire.parse("", "select 1"), PgWire.bind(""), PgWire.execute()));
        assertEquals("PBE", tags(server.received()), "no Sync yet: the group stays open");

        alice.disconnect();
        assertEquals("S", tags(server.received()), "the proxy closes the group for the departed client");
        server.reply(PgWire.parseComplete(), PgWire.bindComplete(), PgWire.commandComplete("SELECT 1"),
                PgWire.readyForQuery('I'));
        rig.cancels.forEach(BackendConnection::cancelFinished);
        assertEquals(1, rig.pool().idleCount(), "answered up to the Sync, idle: back in the pool");
        assertEquals(List.of(), server.received(), "and nothing else was sent (no ROLLBACK for an idle session)");
    }

    @Test
    void aClientThatLeavesDuringCopyInGetsCopyFailSentAndTheTransactionRolledBack() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("begin; copy t from stdin"));
        server.queries();
        server.reply(PgWire.commandComplete("BEGIN"), PgWire.copyInResponse());
        assertEquals("[C(BEGIN), G]", alice.received().toString());

        alice.disconnect();
        List<PgWire.Message> sent = server.received();
        assertEquals('f', sent.get(0).tag(), "CopyFail ends the COPY the client left: " + sent);
        server.reply(PgWire.error("57014", "COPY from stdin failed: client disconnected"), PgWire.readyForQuery('E'));
        assertEquals(List.of("ROLLBACK"), server.queries(), "the failed transaction is rolled back");
        server.complete('I', "ROLLBACK");
        rig.cancels.forEach(BackendConnection::cancelFinished);
        assertEquals(1, rig.pool().idleCount(), "clean and idle: back in the pool");
    }

    @Test
    void aConnectionThatIsNotIdleByTheCleanupDeadlineIsClosed() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("select pg_sleep(600)"));
        server.queries();
        alice.disconnect();
        rig.cancels.forEach(BackendConnection::cancelFinished); // delivered, but the server does not stop

        server.channel.advanceTimeBy(LeaseRig.CLEANUP_TIMEOUT.toMillis() - 1_000, TimeUnit.MILLISECONDS);
        rig.settle();
        assertTrue(server.channel.isOpen(), "still within the cleanup deadline");
        server.channel.advanceTimeBy(2_000, TimeUnit.MILLISECONDS);
        rig.settle();
        assertFalse(server.channel.isOpen(), "closed: the server rolls back what the client left");
        assertEquals(0, rig.pool().openCount());
    }

    @Test
    void aLeaseWhoseSetupTheServerNeverAnswersFailsTheClientAtSchemaExecTimeout() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("select 1"));
        server.queries();
        server.complete('I', "SELECT 1");
        alice.received();

        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        bob.send(PgWire.query("select 'bob'"));
        assertFalse(server.queries().isEmpty(), "the reset for bob's tenant went out");
        Duration timeout = rig.pool().settings().schemaExecTimeout();
        server.channel.advanceTimeBy(timeout.toMillis() - 1_000, TimeUnit.MILLISECONDS);
        rig.settle();
        assertEquals(List.of(), bob.received(), "bob still waits within SchemaExecTimeoutSecs");
        server.channel.advanceTimeBy(2_000, TimeUnit.MILLISECONDS);
        rig.settle();
        List<PgWire.Message> got = bob.received();
        assertEquals(1, got.size(), "one ErrorResponse: " + got);
        assertEquals("08006", got.get(0).field('C'));
        assertTrue(got.get(0).field('M').contains("reconnect"), got.get(0).field('M'));
        assertFalse(server.channel.isOpen(), "a session in an unknown state serves no one");
        assertFalse(bob.channel.isOpen());
    }

    @Test
    void resetsThatKeepFailingEndTheSessionAfterThreeRetries() {
        rig.close();
        rig = new LeaseRig(5);
        List<LeaseRig.Client> alices = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            LeaseRig.Client alice = loggedIn("alice", "tenant_a");
            alice.send(PgWire.query("begin"));
            LeaseRig.Server server = rig.server(i);
            if (i > 0) { // the first connection was opened and pointed at tenant_a by the login
                server.acceptLogin();
                server.complete('I', "SET");
            }
            assertEquals(List.of("begin"), server.queries().stream().filter(q -> !q.startsWith("SET")).toList());
            server.complete('T', "BEGIN");
            alices.add(alice);
        }
        assertEquals(5, rig.serverCount(), "five transactions at once: five connections, all last used by tenant_a");
        for (int i = 0; i < 5; i++) {
            alices.get(i).send(PgWire.query("commit"));
            rig.server(i).queries();
            rig.server(i).complete('I', "COMMIT");
        }
        assertEquals(5, rig.pool().idleCount());

        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        bob.send(PgWire.query("select 'bob'"));
        int failed = 0;
        for (boolean anotherReset = true; anotherReset && failed < 10; ) {
            anotherReset = false;
            for (int i = 0; i < rig.serverCount(); i++) {
                LeaseRig.Server server = rig.server(i);
                if (!server.queries().isEmpty()) { // a reset for bob: it fails, so bob is moved on
                    server.reply(PgWire.error("XX000", "broken session"), PgWire.readyForQuery('I'));
                    failed++;
                    anotherReset = true;
                }
            }
        }
        assertEquals(4, failed, "the first reset and three retries, each on another connection");
        List<PgWire.Message> got = bob.received();
        assertEquals(1, got.size(), "only the final error: " + got);
        assertEquals("08006", got.get(0).field('C'));
        assertTrue(got.get(0).field('M').contains("4 attempts"), got.get(0).field('M'));
        assertEquals(1, rig.pool().idleCount(), "the connection bob never reached is untouched");
    }

    @Test
    void aSetTagMakesTheTenantsNextLeaseRepeatItsSearchPath() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Server server = rig.server(0);
        alice.send(PgWire.query("set search_path = elsewhere"));
        server.queries();
        server.complete('I', "SET");
        assertEquals("[C(SET)]", alice.received().toString(), "ReadyForQuery held while the proxy asks");
        List<String> question = server.queries();
        assertEquals(1, question.size(), "one question for the unreported tracked settings: " + question);
        int columns = question.get(0).split("current_setting\\(", -1).length - 1;
        assertTrue(columns > 0, question.get(0));
        server.reply(PgWire.dataRow(java.util.Collections.nCopies(columns, "0").toArray(String[]::new)),
                PgWire.commandComplete("SELECT 1"), PgWire.readyForQuery('I'));
        assertEquals("[Z]", alice.received().toString(), "answered: the client's ReadyForQuery follows");

        alice.send(PgWire.query("select 1"));
        List<String> sent = server.queries();
        assertEquals(3, sent.size(), "search_path, the settings, then the client's statement: " + sent);
        assertEquals(SessionSettings.searchPathStatement("tenant_a"), sent.get(0),
                "after a SET the tenant's search_path is repaired, pipelined with the next statement");
        assertTrue(sent.get(1).startsWith("SET ") && sent.get(1).contains("statement_timeout"),
                "and every tracked setting is re-sent: " + sent.get(1));
        assertEquals("select 1", sent.get(2));
        server.complete('I', "SET");
        server.complete('I', "SET");
        server.complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", alice.received().toString(), "the repair's replies are swallowed");

        alice.send(PgWire.query("select 2"));
        assertEquals(List.of("select 2"), server.queries(), "a SELECT tag changes nothing: no repair");
        server.complete('I', "SELECT 1");
    }

    private static String tags(List<PgWire.Message> messages) {
        StringBuilder tags = new StringBuilder();
        messages.forEach(m -> tags.append(m.tag()));
        return tags.toString();
    }
}
