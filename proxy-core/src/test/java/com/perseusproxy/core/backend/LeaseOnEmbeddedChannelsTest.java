package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.pool.PoolSettings;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link com.perseusproxy.core.session.ClientSession}, the pool and {@link BackendConnection} together, with scripted
 * server replies: what the lease policy sends to the server, in what order, and what the client gets to see. The
 * end-to-end tests against PostgreSQL prove the reset works; these prove the sequencing, including when the client's
 * bytes arrive one at a time.
 */
class LeaseOnEmbeddedChannelsTest {

    private LeaseRig rig = new LeaseRig(1);

    @AfterEach
    void tearDown() {
        rig.close();
    }

    /** Logs in a client; the first login probes a fresh connection, which gets only its search_path. */
    private LeaseRig.Client loggedIn(String user, String schema) {
        return rig.loggedIn(user, schema);
    }

    /** Runs one autocommit statement of a client on the pool's only server and returns what the server was sent. */
    private List<String> runStatement(LeaseRig.Client client, String sql, boolean fragmented) {
        byte[] query = PgWire.query(sql);
        if (fragmented) {
            client.sendFragmented(query);
        } else {
            client.send(query);
        }
        return rig.server(0).queries();
    }

    @Test
    void sameTenantAgainSendsNothingButTheClientsOwnStatement() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        assertEquals(List.of("select 1"), runStatement(alice, "select 1", false));
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", alice.received().toString());

        LeaseRig.Client alice2 = loggedIn("alice", "tenant_a");
        assertEquals(List.of("select 2"), runStatement(alice2, "select 2", false),
                "a second client of the same tenant inherits the session as it is: no reset, no search_path");
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", alice2.received().toString());
        assertEquals(1, rig.serverCount());
    }

    @Test
    void anotherTenantWaitsForTheResetAndNeverSeesItsReplies() {
        tenantSwitch(false, "0");
    }

    @Test
    void aTenantSwitchIsTheSameWhenTheClientsBytesArriveOneByOne() {
        tenantSwitch(true, "0");
    }

    @Test
    void statementsMadeWithSqlPrepareAreDeallocatedBeforeTheNextTenantsFirstMessage() {
        tenantSwitch(false, "2");
    }

    /** @param sqlPrepared what the reset's count of SQL-prepared statements answers */
    private void tenantSwitch(boolean fragmented, String sqlPrepared) {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        runStatement(alice, "select set_config('app.tenant', 'A', false)", fragmented);
        rig.server(0).complete('I', "SELECT 1");
        alice.received();

        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        List<String> sent = runStatement(bob, "select current_setting('app.tenant', true)", fragmented);
        assertFalse(sent.stream().anyMatch(sql -> sql.contains("app.tenant")),
                "bob's statement is held back until the reset is done: " + sent);
        String reset = sent.get(0);
        for (String settings : sent.subList(1, sent.size())) {
            assertTrue(settings.startsWith("SET "), "after the reset come only the tracked settings: " + settings);
        }
        for (String part : List.of("CLOSE ALL", "UNLISTEN *", "pg_advisory_unlock_all()", "DISCARD TEMP",
                "DISCARD SEQUENCES", "SET SESSION AUTHORIZATION DEFAULT", "RESET ALL", "RESET ROLE",
                "pg_prepared_statements WHERE from_sql", "tenant_b")) {
            assertTrue(reset.contains(part), "the reset contains " + part + ": " + reset);
        }
        assertEquals("[]", bob.received().toString(), "bob sees nothing of the reset");

        rig.server(0).reply(PgWire.commandComplete("CLOSE CURSOR ALL"), PgWire.commandComplete("UNLISTEN"),
                PgWire.dataRow(""), PgWire.commandComplete("SELECT 1"), PgWire.commandComplete("DISCARD TEMP"),
                PgWire.commandComplete("DISCARD SEQUENCES"), PgWire.commandComplete("SET"),
                PgWire.commandComplete("RESET"), PgWire.commandComplete("RESET"), PgWire.dataRow(sqlPrepared),
                PgWire.commandComplete("SELECT 1"), PgWire.commandComplete("SET"), PgWire.readyForQuery('I'));
        for (int i = 1; i < sent.size(); i++) {
            rig.server(0).complete('I', "SET");
        }
        if (!sqlPrepared.equals("0")) {
            List<String> deallocate = rig.server(0).queries();
            assertEquals(1, deallocate.size(), "only the deallocation, before bob's statement: " + deallocate);
            assertTrue(deallocate.get(0).startsWith("DO ") && deallocate.get(0).contains("DEALLOCATE"),
                    deallocate.get(0));
            rig.server(0).complete('I', "DO");
        }
        assertEquals(List.of("select current_setting('app.tenant', true)"), rig.server(0).queries(),
                "bob's statement follows the reset's ReadyForQuery");
        assertEquals("[]", bob.received().toString(), "the reset's replies are swallowed");
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", bob.received().toString());
        assertEquals(1, rig.pool().idleCount(), "the connection is back in the pool");
    }

    @Test
    void aFailedResetClosesTheConnectionAndTheClientGetsAnotherWithoutSeeingTheError() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        runStatement(alice, "select 1", false);
        rig.server(0).complete('I', "SELECT 1");
        alice.received();

        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        runStatement(bob, "select 'bob'", false);
        rig.server(0).reply(PgWire.error("XX000", "broken session"), PgWire.readyForQuery('I'));
        assertFalse(rig.server(0).channel.isOpen(), "the connection whose reset failed is closed");
        assertEquals(2, rig.serverCount(), "a new connection is opened for bob");

        LeaseRig.Server second = rig.server(1);
        second.acceptLogin();
        List<String> sent = second.queries();
        assertEquals(List.of(SessionSettings.searchPathStatement("tenant_b"), "select 'bob'"), sent,
                "a fresh connection needs no reset: search_path and bob's statement are pipelined");
        second.complete('I', "SET");
        second.complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", bob.received().toString(), "bob never sees the reset's error");
    }

    @Test
    void aClientThatLeavesMidTransactionIsRolledBackBeforeTheConnectionIsReused() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        assertEquals(List.of("begin"), runStatement(alice, "begin", false));
        rig.server(0).complete('T', "BEGIN");
        assertEquals("[C(BEGIN), Z]", alice.received().toString());
        assertEquals(0, rig.pool().idleCount(), "the transaction keeps its backend");

        alice.disconnect();
        assertEquals(List.of("ROLLBACK"), rig.server(0).queries().stream().map(String::toUpperCase).toList());
        assertEquals(0, rig.pool().idleCount(), "not reusable before the rollback completes");
        rig.server(0).complete('I', "ROLLBACK");
        assertEquals(1, rig.pool().idleCount(), "rolled back, then returned to the pool");

        LeaseRig.Client alice2 = loggedIn("alice", "tenant_a");
        assertEquals(List.of("select 1"), runStatement(alice2, "select 1", false));
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", alice2.received().toString());
    }

    @Test
    void aWaiterGivesUpAfterQueryWaitTimeoutAndTheNextOneIsServedInOrder() throws InterruptedException {
        rig.close();
        rig = new LeaseRig(1, Duration.ofMillis(300));
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        runStatement(alice, "begin", false);
        rig.server(0).complete('T', "BEGIN");
        alice.received();

        LeaseRig.Client early = loggedIn("alice", "tenant_a");
        early.send(PgWire.query("select 'early'"));
        Thread.sleep(150);
        LeaseRig.Client late = loggedIn("alice", "tenant_a");
        late.send(PgWire.query("select 'late'"));
        assertEquals("[]", early.received().toString(), "both wait while alice's transaction holds the only backend");
        assertEquals(2, rig.pool().waitingCount());

        Thread.sleep(200); // the early one has waited 350 ms, the late one 200 ms
        rig.settle();
        List<PgWire.Message> gaveUp = early.received();
        assertEquals('E', gaveUp.get(0).tag(), "the early waiter gets an error: " + gaveUp);
        assertEquals("53300", gaveUp.get(0).field('C'));
        assertTrue(gaveUp.get(0).field('M').contains("QueryWaitTimeoutSecs"), gaveUp.get(0).field('M'));
        assertEquals("[]", late.received().toString(), "the late waiter has time left");

        runStatement(alice, "commit", false);
        rig.server(0).complete('I', "COMMIT");
        assertEquals(List.of("select 'late'"), rig.server(0).queries(), "the freed backend goes to the late waiter");
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", late.received().toString());
        assertEquals(0, rig.pool().waitingCount());
    }

    @Test
    void aWaiterThatLeavesIsSkipped() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        runStatement(alice, "begin", false);
        rig.server(0).complete('T', "BEGIN");
        LeaseRig.Client gone = loggedIn("alice", "tenant_a");
        gone.send(PgWire.query("select 'gone'"));
        LeaseRig.Client next = loggedIn("alice", "tenant_a");
        next.send(PgWire.query("select 'next'"));
        gone.disconnect();

        runStatement(alice, "commit", false);
        rig.server(0).complete('I', "COMMIT");
        assertEquals(List.of("select 'next'"), rig.server(0).queries());
    }

    @Test
    void aReleasedConnectionLingersForItsTenantBeforeAnotherTenantsWaiterGetsIt() throws InterruptedException {
        // A linger far longer than the default 2 ms: on a loaded machine 2 ms can pass between two statements here.
        rig.close();
        rig = new LeaseRig(1, PoolSettings.defaults().queryWaitTimeout(), Duration.ofMillis(300));
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        runStatement(alice, "begin", false);
        rig.server(0).complete('T', "BEGIN");
        alice.received();
        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        bob.send(PgWire.query("select 'bob'"));

        runStatement(alice, "commit", false);
        rig.server(0).complete('I', "COMMIT");
        alice.received();
        assertEquals(List.of(), rig.server(0).queries(), "the connection lingers for tenant_a: no reset for bob yet");
        assertEquals(List.of("select 'alice again'"), runStatement(alice, "select 'alice again'", false),
                "alice's next transaction takes it back at once, with no reset");
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", alice.received().toString());

        Thread.sleep(400); // longer than the linger, and alice sends nothing more
        rig.settle();
        List<String> forBob = rig.server(0).queries();
        assertTrue(forBob.size() >= 1 && forBob.get(0).contains("RESET ALL"),
                "then bob's waiter gets it, reset first: " + forBob);
    }

    @Test
    void aSessionWaitsForItsTenantsBusyConnectionBeforeItTakesAnotherTenantsIdleOne() throws InterruptedException {
        rig.close();
        rig = new LeaseRig(2, PoolSettings.defaults().queryWaitTimeout(), Duration.ofMillis(300));
        LeaseRig.Client alice = loggedIn("alice", "tenant_a"); // server 0, pointed at tenant_a
        runStatement(alice, "begin", false);
        rig.server(0).complete('T', "BEGIN");
        alice.received();
        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        bob.send(PgWire.query("select 'bob'"));
        rig.server(1).acceptLogin(); // a second connection for bob, which then sits idle, last used by tenant_b
        String bobSees = "";
        for (int round = 0; round < 3 && !bobSees.contains("Z"); round++) {
            for (String sql : rig.server(1).queries()) {
                rig.server(1).complete('I', sql.equals("select 'bob'") ? "SELECT 1" : "SET");
            }
            bobSees += bob.received().toString();
        }
        assertTrue(bobSees.contains("C(SELECT 1)") && bobSees.contains("Z"), "bob's statement ran: " + bobSees);

        LeaseRig.Client carol = loggedIn("carol", "tenant_a");
        carol.send(PgWire.query("select 'carol'"));
        assertEquals(List.of(), rig.server(1).queries(),
                "tenant_a's own connection is busy but comes back: bob's idle one is not reset for carol");
        assertEquals(List.of("commit"), runStatement(alice, "commit", false));
        rig.server(0).complete('I', "COMMIT");
        alice.received();
        assertEquals(List.of("select 'carol'"), rig.server(0).queries(),
                "carol gets tenant_a's connection as soon as alice's transaction ends, with no reset");
        rig.server(0).complete('I', "SELECT 1");
        assertEquals("[C(SELECT 1), Z]", carol.received().toString());

        // When tenant_a's connection does not come back within TenantLingerMicros, carol takes the idle one after all,
        // and it is reset first: what bob left on it is not carol's to see.
        runStatement(alice, "begin", false);
        rig.server(0).complete('T', "BEGIN");
        alice.received();
        carol.send(PgWire.query("select 'carol again'"));
        assertEquals(List.of(), rig.server(1).queries(), "carol waits for tenant_a's connection first");
        Thread.sleep(400); // longer than the 300 ms linger, and alice's transaction stays open
        rig.settle();
        List<String> forCarol = rig.server(1).queries();
        assertTrue(!forCarol.isEmpty() && forCarol.get(0).contains("RESET ALL"),
                "then carol gets bob's idle connection, reset first: " + forCarol);
    }
}
