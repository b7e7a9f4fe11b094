package com.perseusproxy.server.it;

import static com.perseusproxy.server.it.PgWire.bind;
import static com.perseusproxy.server.it.PgWire.concat;
import static com.perseusproxy.server.it.PgWire.describeStatement;
import static com.perseusproxy.server.it.PgWire.execute;
import static com.perseusproxy.server.it.PgWire.parse;
import static com.perseusproxy.server.it.PgWire.sync;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import com.perseusproxy.server.it.PgWire.Message;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The unnamed prepared statement lasts until the client's next Parse("") or simple Query, as in PostgreSQL, even when
 * its Bind comes in a later Sync group - what vertx-pg-client does for every {@code preparedQuery(sql).execute()}:
 * {@code Parse("")/Describe/Sync}, then {@code Bind("")/Execute/Sync}. On a pool of one backend, so every other
 * client in between uses the very same server session: another tenant's (the backend is reset and re-pointed, which
 * drops the statement there), or one of the same tenant (nothing is reset, so only the proxy's bookkeeping keeps one
 * client's unnamed statement from answering another's Bind). Every test also passes against PostgreSQL directly
 * ({@code -Dperseus.it.direct=true}). Message types: 1 ParseComplete, 2 BindComplete, 3 CloseComplete,
 * t ParameterDescription, T RowDescription, D DataRow, C CommandComplete, E ErrorResponse, Z ReadyForQuery.
 */
class UnnamedStatementTest {

    private static final String SCHEMA_TIMES_TWO = "select current_schema() || ' ' || ($1::int * 2)::text";

    private static PerseusService proxy;

    @BeforeAll
    static void startPoolOfOne() {
        if (!Boolean.getBoolean("perseus.it.direct")) {
            proxy = TestProxy.startDedicated(1);
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void vertxSequenceBindsInALaterGroupAfterOtherTenantsAndClientsUsedTheBackend() {
        try (PgWire a = client(Fixtures.TENANT_A); PgWire b = client(Fixtures.TENANT_B);
             PgWire a2 = client(Fixtures.TENANT_A)) {
            a.send(concat(parse(SCHEMA_TIMES_TWO), describeStatement(), sync()));
            assertEquals("1tTZ", PgWire.types(a.readUntilReady(1)));
            assertEquals(List.of("tenant_a 42"), bindAndRun(a, "21"), "the same backend, nothing in between");

            b.simpleQuery("select 1"); // another tenant: the only backend is reset and re-pointed
            assertEquals(List.of("tenant_a 2"), bindAndRun(a, "1"), "after another tenant's transaction");

            a2.send(concat(parse("select 'a2 own statement'"), bind(), execute(), sync()));
            assertEquals(List.of("a2 own statement"), PgWire.firstColumn(a2.readUntilReady(1)));
            assertEquals(List.of("tenant_a 4"), bindAndRun(a, "2"), "after a same-tenant client's own Parse(\"\")");
            a.terminate();
            b.terminate();
            a2.terminate();
        }
    }

    @Test
    void parseAndBindPipelinedInTwoGroupsInOneWrite() {
        try (PgWire a = client(Fixtures.TENANT_A)) {
            a.send(concat(parse(SCHEMA_TIMES_TWO), describeStatement(), sync(), bind("", "5"), execute(), sync()));
            List<Message> messages = a.readUntilReady(2);
            assertEquals("1tTZ" + "2DCZ", PgWire.types(messages));
            assertEquals(List.of("tenant_a 10"), PgWire.firstColumn(messages));
            a.terminate();
        }
    }

    @Test
    void anotherClientsBindOfTheUnnamedStatementNeverFindsThisClientsStatement() {
        try (PgWire a = client(Fixtures.TENANT_A); PgWire a2 = client(Fixtures.TENANT_A);
             PgWire b = client(Fixtures.TENANT_B)) {
            a.send(concat(parse("select 'secret of this client'"), sync()));
            assertEquals("1Z", PgWire.types(a.readUntilReady(1)));
            // Same tenant first: the backend is handed over without any reset, still holding a's statement.
            assertUnnamedStatementMissing(a2);
            a.send(concat(parse("select 'secret of this client'"), sync()));
            assertEquals("1Z", PgWire.types(a.readUntilReady(1)));
            assertUnnamedStatementMissing(b);
            assertEquals(List.of("secret of this client"), bindAndRun(a, new String[0]), "a's own is still there");
            a.terminate();
            a2.terminate();
            b.terminate();
        }
    }

    @Test
    void simpleQueryDropsItAsInPostgresql() {
        try (PgWire a = client(Fixtures.TENANT_A)) {
            a.send(concat(parse("select 'one'"), sync()));
            assertEquals("1Z", PgWire.types(a.readUntilReady(1)));
            a.simpleQuery("select 1");
            assertUnnamedStatementMissing(a);
            a.terminate();
        }
    }

    @Test
    void nextParseReplacesItAndAFailedParseDropsIt() {
        try (PgWire a = client(Fixtures.TENANT_A)) {
            a.send(concat(parse("select 'first'"), sync(), parse("select 'second'"), sync()));
            assertEquals("1Z1Z", PgWire.types(a.readUntilReady(2)));
            assertEquals(List.of("second"), bindAndRun(a, new String[0]));

            a.send(concat(parse("select * from no_such_table"), sync()));
            List<Message> failed = a.readUntilReady(1);
            assertEquals("EZ", PgWire.types(failed));
            assertEquals("42P01", failed.get(0).sqlState());
            assertUnnamedStatementMissing(a);
            a.terminate();
        }
    }

    @Test
    void parseSkippedAfterAnEarlierErrorLeavesThePreviousStatement() {
        try (PgWire a = client(Fixtures.TENANT_A); PgWire b = client(Fixtures.TENANT_B)) {
            a.send(concat(parse("select 'old'"), sync()));
            assertEquals("1Z", PgWire.types(a.readUntilReady(1)));
            // The Bind of a missing statement fails, so PostgreSQL skips the Parse("") after it up to the Sync.
            a.send(concat(bind("no_such_statement"), parse("select 'new'"), sync()));
            List<Message> skipped = a.readUntilReady(1);
            assertEquals("EZ", PgWire.types(skipped));
            assertEquals("26000", skipped.get(0).sqlState());
            b.simpleQuery("select 1");
            assertEquals(List.of("old"), bindAndRun(a, new String[0]));
            a.terminate();
            b.terminate();
        }
    }

    @Test
    void describeOfTheUnnamedStatementInALaterGroupAndOnAnotherSession() {
        try (PgWire a = client(Fixtures.TENANT_A); PgWire b = client(Fixtures.TENANT_B)) {
            a.send(concat(parse(SCHEMA_TIMES_TWO), sync()));
            assertEquals("1Z", PgWire.types(a.readUntilReady(1)));
            b.simpleQuery("select 1");
            a.send(concat(describeStatement(), sync()));
            assertEquals("tTZ", PgWire.types(a.readUntilReady(1)));
            a.terminate();
            b.terminate();
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static PgWire client(SampleTenant tenant) {
        Target target = proxy == null ? Targets.direct(tenant)
                : Targets.viaProxy(tenant, "127.0.0.1", proxy.port());
        PgWire wire = PgWire.open(target);
        wire.login(target);
        return wire;
    }

    /** Bind("")/Execute/Sync as its own group; returns the first column of the rows. */
    private static List<String> bindAndRun(PgWire wire, String... params) {
        wire.send(concat(bind("", params), execute(), sync()));
        List<Message> messages = wire.readUntilReady(1);
        assertEquals("2DCZ", PgWire.types(messages), messages.toString());
        return PgWire.firstColumn(messages);
    }

    private static void assertUnnamedStatementMissing(PgWire wire) {
        wire.send(concat(bind(), execute(), sync()));
        List<Message> messages = wire.readUntilReady(1);
        assertEquals("EZ", PgWire.types(messages), "no rows of anyone's statement: " + messages);
        assertEquals("26000", messages.get(0).sqlState());
        assertEquals("unnamed prepared statement does not exist", messages.get(0).fields().get('M'));
    }
}
