package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How the pool keeps tenant switches (each a full session reset the client waits for) rare when connections are
 * shared by several tenants, on {@link LeaseRig}'s scripted servers: which connection each transaction gets, what
 * the server is sent first, and the pool's count of switches ({@code perseus_pool_tenant_switches_total}).
 */
class TenantAffinityTest {

    private final LeaseRig rig = new LeaseRig(3);

    @AfterEach
    void tearDown() {
        rig.close();
    }

    private LeaseRig.Client loggedIn(String user, String schema) {
        return rig.loggedIn(user, schema);
    }

    /** Starts a transaction on a new connection: the fresh server gets the search_path and the BEGIN, pipelined. */
    private LeaseRig.Server beginOnNewConnection(LeaseRig.Client client, String schema) {
        int before = rig.serverCount();
        client.send(PgWire.query("begin"));
        assertEquals(before + 1, rig.serverCount(), "the pool opens a connection while it has room");
        LeaseRig.Server server = rig.server(before);
        server.acceptLogin();
        assertEquals(List.of(SessionSettings.searchPathStatement(schema), "begin"), server.queries(),
                "a connection that served nobody needs no reset");
        server.complete('I', "SET");
        server.complete('T', "BEGIN");
        client.received();
        return server;
    }

    private static void commit(LeaseRig.Client client, LeaseRig.Server server) {
        client.send(PgWire.query("commit"));
        assertEquals(List.of("commit"), server.queries());
        server.complete('I', "COMMIT");
        assertEquals("[C(COMMIT), Z]", client.received().toString());
    }

    private long switches() {
        return rig.pool().stats().tenantSwitches();
    }

    @Test
    void withSpareConnectionsEachTenantKeepsItsOwnConnectionAndNoLeaseResets() {
        LeaseRig.Client alice = loggedIn("alice", "tenant_a");
        LeaseRig.Client bob = loggedIn("bob", "tenant_b");
        LeaseRig.Server forAlice = rig.server(0);
        alice.send(PgWire.query("begin"));
        assertEquals(List.of("begin"), forAlice.queries(), "alice's login pointed this connection at tenant_a");
        forAlice.complete('T', "BEGIN");
        alice.received();
        LeaseRig.Server forBob = beginOnNewConnection(bob, "tenant_b");
        commit(alice, forAlice);
        commit(bob, forBob);

        // Both connections are idle now, most recently used first: bob's. Each tenant still gets its own.
        for (int i = 0; i < 20; i++) {
            LeaseRig.Client client = i % 2 == 0 ? alice : bob;
            LeaseRig.Server expected = i % 2 == 0 ? forAlice : forBob;
            LeaseRig.Server other = i % 2 == 0 ? forBob : forAlice;
            client.send(PgWire.query("select " + i));
            assertEquals(List.of("select " + i), expected.queries(),
                    "transaction " + i + " runs on its tenant's own connection, with nothing sent before it");
            assertEquals(List.of(), other.queries());
            expected.complete('I', "SELECT 1");
            assertEquals("[C(SELECT 1), Z]", client.received().toString());
        }
        assertEquals(0, switches(), "no lease moved a connection to another tenant");
        assertEquals(2, rig.serverCount(), "and no third connection was needed");
    }

    @Test
    void aTenantThatHoldsNoConnectionGetsOneAtOnceFromATenantThatHoldsTwo() {
        LeaseRig rigOfTwo = new LeaseRig(2);
        try {
            LeaseRig.Client alice = rigOfTwo.login("alice", "tenant_a");
            LeaseRig.Server first = rigOfTwo.server(0);
            first.acceptLogin();
            first.queries();
            first.complete('I', "SET");
            alice.received();
            LeaseRig.Client alice2 = rigOfTwo.login("alice", "tenant_a");
            alice2.received();
            LeaseRig.Client bob = rigOfTwo.login("bob", "tenant_b");
            bob.received();

            alice.send(PgWire.query("begin"));
            first.complete('T', "BEGIN");
            alice2.send(PgWire.query("begin"));
            LeaseRig.Server second = rigOfTwo.server(1);
            second.acceptLogin();
            second.complete('I', "SET");
            second.complete('T', "BEGIN");
            first.queries();
            second.queries();
            alice.received();
            alice2.received();
            bob.send(PgWire.query("select 'bob'"));
            assertEquals(1, rigOfTwo.pool().waitingCount(), "both connections are tenant_a's: bob waits");

            alice.send(PgWire.query("commit"));
            assertEquals(List.of("commit"), first.queries());
            first.complete('I', "COMMIT");
            List<String> forBob = first.queries();
            assertEquals(1, forBob.size(), "the commit's connection goes to bob at once, reset first: " + forBob);
            assertTrue(forBob.get(0).contains("RESET ALL") && forBob.get(0).contains("tenant_b"), forBob.get(0));
            assertEquals(1, rigOfTwo.pool().stats().tenantSwitches(), "one switch, counted");
            assertEquals(0, rigOfTwo.pool().waitingCount());
            assertEquals(List.of(), second.queries(), "alice2's connection is left alone");
        } finally {
            rigOfTwo.close();
        }
    }
}
