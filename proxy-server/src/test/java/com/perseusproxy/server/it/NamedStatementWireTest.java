package com.perseusproxy.server.it;

import static com.perseusproxy.server.it.PgWire.bind;
import static com.perseusproxy.server.it.PgWire.closeStatement;
import static com.perseusproxy.server.it.PgWire.concat;
import static com.perseusproxy.server.it.PgWire.describeStatement;
import static com.perseusproxy.server.it.PgWire.execute;
import static com.perseusproxy.server.it.PgWire.flush;
import static com.perseusproxy.server.it.PgWire.parse;
import static com.perseusproxy.server.it.PgWire.sync;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.it.PgWire.Message;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Named prepared statements at message level, pipelines included: the client must get exactly what PostgreSQL would
 * send, in the same order, although the proxy renames the statements, prepares them on whichever backend a
 * transaction gets, and answers some messages itself. Every test also passes against PostgreSQL directly
 * ({@code -Dperseus.it.direct=true}). Message types: 1 ParseComplete, 2 BindComplete, 3 CloseComplete,
 * t ParameterDescription, T RowDescription, D DataRow, C CommandComplete, E ErrorResponse, Z ReadyForQuery.
 */
class NamedStatementWireTest {

    private final Target target = Targets.forTenant(Fixtures.TENANT_A);
    private PgWire wire;

    @BeforeEach
    void logIn() {
        wire = PgWire.open(target);
        wire.login(target);
    }

    @AfterEach
    void logOut() {
        wire.terminate();
    }

    @Test
    void parseBindExecuteClosePipelinedInOneWrite() {
        wire.send(concat(
                parse("double", "select $1::int * 2"), parse("schema", "select current_schema()"),
                bind("double", "21"), execute(), bind("schema"), execute(), closeStatement("double"), sync(),
                // the next transaction, already queued: "schema" is still there, "double" is gone
                bind("schema"), execute(), sync(),
                bind("double", "1"), execute(), sync()));
        List<Message> messages = wire.readUntilReady(3);
        assertEquals("11" + "2DC" + "2DC" + "3" + "Z" + "2DCZ" + "EZ", PgWire.types(messages));
        assertEquals(List.of("42", Fixtures.TENANT_A.schema(), Fixtures.TENANT_A.schema()),
                PgWire.firstColumn(messages));
        Message error = messages.get(messages.size() - 2);
        assertEquals("26000", error.sqlState());
        assertEquals("prepared statement \"double\" does not exist", error.fields().get('M'));
    }

    @Test
    void statementOutlivesTheTransactionAndTheBackend() {
        wire.send(concat(parse("pid", "select pg_backend_pid()"), sync()));
        assertEquals("1Z", PgWire.types(wire.readUntilReady(1)));
        Set<String> pids = new HashSet<>();
        try (PgWire other = PgWire.open(target)) {
            other.login(target);
            for (int i = 0; i < 10; i++) {
                // The pool hands out the most recently used backend first: the other client now takes the one this
                // client just used, so this client's next transaction runs elsewhere and needs the statement there.
                other.simpleQuery("begin; select 1");
                pids.addAll(runNamed("pid"));
                other.simpleQuery("commit");
                pids.addAll(runNamed("pid"));
            }
            other.terminate();
        }
        if (Targets.viaProxy()) {
            assertTrue(pids.size() > 1, "ran on more than one backend: " + pids);
        }
    }

    @Test
    void reusedNameIsError42P05AndTheGroupIsSkippedToSync() {
        wire.send(concat(parse("one", "select 1"), sync()));
        assertEquals("1Z", PgWire.types(wire.readUntilReady(1)));

        wire.send(concat(parse("one", "select 2"), bind("one"), execute(), sync(),
                bind("one"), execute(), sync()));
        List<Message> messages = wire.readUntilReady(2);
        assertEquals("EZ" + "2DCZ", PgWire.types(messages));
        assertEquals("42P05", messages.get(0).sqlState());
        assertEquals("prepared statement \"one\" already exists", messages.get(0).fields().get('M'));
        assertEquals(List.of("1"), PgWire.firstColumn(messages), "the first definition stays");

        // Inside a transaction the error aborts it, as in PostgreSQL.
        assertEquals("T", PgWire.transactionStates(wire.simpleQuery("begin")));
        wire.send(concat(parse("one", "select 3"), sync()));
        List<Message> inTransaction = wire.readUntilReady(1);
        assertEquals("EZ", PgWire.types(inTransaction));
        assertEquals("E", PgWire.transactionStates(inTransaction));
        assertEquals("I", PgWire.transactionStates(wire.simpleQuery("rollback")));
        assertEquals(List.of("1"), runNamed("one"));
    }

    @Test
    void errorSkipsTheProxysOwnAnswersToo() {
        wire.send(concat(parse("kept", "select 'kept'"), sync()));
        assertEquals("1Z", PgWire.types(wire.readUntilReady(1)));

        // After the first error PostgreSQL answers nothing until Sync: not the Parse, Bind or Close after it.
        wire.send(concat(parse("broken", "select * from no_such_table"), parse("never", "select 'never'"),
                bind("kept"), execute(), closeStatement("kept"), sync()));
        List<Message> messages = wire.readUntilReady(1);
        assertEquals("EZ", PgWire.types(messages));
        assertEquals("42P01", messages.get(0).sqlState());

        wire.send(concat(bind("never"), execute(), sync()));
        List<Message> never = wire.readUntilReady(1);
        assertEquals("EZ", PgWire.types(never));
        assertEquals("26000", never.get(0).sqlState(), "the skipped Parse created nothing");
        assertEquals(List.of("kept"), runNamed("kept"), "the skipped Close closed nothing");
    }

    @Test
    void describeAndFlushKeepTheExchangeOpen() {
        wire.send(concat(parse("shape", "select $1::int as n, 'x'::text as t"), describeStatement("shape"),
                flush()));
        assertEquals('1', wire.read().type());
        assertEquals('t', wire.read().type());
        Message rowDescription = wire.read();
        assertEquals('T', rowDescription.type());
        assertEquals(2, ((rowDescription.body()[0] & 0xff) << 8) | (rowDescription.body()[1] & 0xff));
        wire.send(concat(bind("shape", "7"), execute(), sync()));
        List<Message> rest = wire.readUntilReady(1);
        assertEquals("2DCZ", PgWire.types(rest));
        assertEquals(List.of("7"), PgWire.firstColumn(rest));
    }

    @Test
    void closeFreesTheNameForANewDefinition() {
        wire.send(concat(parse("s", "select 'first'"), bind("s"), execute(), closeStatement("s"),
                parse("s", "select 'second'"), bind("s"), execute(), sync()));
        List<Message> messages = wire.readUntilReady(1);
        assertEquals("12DC" + "3" + "12DC" + "Z", PgWire.types(messages));
        assertEquals(List.of("first", "second"), PgWire.firstColumn(messages));
        // Closing a name that does not exist is no error.
        wire.send(concat(closeStatement("s"), closeStatement("s"), sync()));
        assertEquals("33Z", PgWire.types(wire.readUntilReady(1)));
    }

    @Test
    void deallocateAllAndDiscardAllForgetTheNames() {
        for (String reset : List.of("DEALLOCATE ALL", "DISCARD ALL")) {
            wire.send(concat(parse("a", "select 'old'"), parse("b", "select 'old'"), sync()));
            assertEquals("11Z", PgWire.types(wire.readUntilReady(1)));
            List<Message> done = wire.simpleQuery(reset);
            // (Through the proxy DISCARD ALL also reports the settings it reset: not this test's subject.)
            assertEquals("CZ", PgWire.types(done).replace("S", ""), reset);
            wire.send(concat(parse("a", "select 'new'"), bind("a"), execute(), bind("b"), execute(), sync()));
            List<Message> after = wire.readUntilReady(1);
            assertEquals("12DC" + "EZ", PgWire.types(after), reset);
            assertEquals(List.of("new"), PgWire.firstColumn(after), reset);
            assertEquals("26000", after.get(4).sqlState(), reset);
            wire.simpleQuery("DEALLOCATE ALL");
        }
    }

    @Test
    void manyStatementsPipelinedWithParameters() {
        byte[][] messages = new byte[41][];
        for (int i = 0; i < 10; i++) {
            messages[4 * i] = parse("p" + i, "select $1::int + " + i);
            messages[4 * i + 1] = bind("p" + i, String.valueOf(100 * i));
            messages[4 * i + 2] = execute();
            messages[4 * i + 3] = i % 3 == 0 ? closeStatement("p" + i) : flush();
        }
        messages[40] = sync();
        wire.send(concat(messages));
        List<Message> replies = wire.readUntilReady(1);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 10; i++) {
            expected.append("12DC").append(i % 3 == 0 ? "3" : "");
        }
        assertEquals(expected + "Z", PgWire.types(replies));
        List<String> values = PgWire.firstColumn(replies);
        for (int i = 0; i < 10; i++) {
            assertEquals(String.valueOf(101 * i), values.get(i));
        }
    }

    @Test
    void afterDdlChangesTheResultTheStatementIsPreparedAfreshEverywhere() {
        TestPostgres pg = Fixtures.postgres();
        pg.execute(TestPostgres.APP_DB, "drop table if exists tenant_a.prep_ddl",
                "create table tenant_a.prep_ddl (id int)", "insert into tenant_a.prep_ddl values (7)",
                "alter table tenant_a.prep_ddl owner to " + TestPostgres.APP_OWNER.name());
        wire.send(concat(parse("ddl", "select * from prep_ddl"), sync()));
        assertEquals("1Z", PgWire.types(wire.readUntilReady(1)));
        try (PgWire other = PgWire.open(target)) {
            other.login(target);
            // Prepared on two backends (see statementOutlivesTheTransactionAndTheBackend for the trick).
            other.simpleQuery("begin; select 1");
            assertEquals(List.of("7"), runNamed("ddl"));
            other.simpleQuery("commit");
            assertEquals(List.of("7"), runNamed("ddl"));

            pg.execute(TestPostgres.APP_DB, "alter table tenant_a.prep_ddl add column label text");
            wire.send(concat(bind("ddl"), execute(), sync()));
            List<Message> stale = wire.readUntilReady(1);
            assertEquals("EZ", PgWire.types(stale));
            assertEquals("0A000", stale.get(0).sqlState(), "cached plan must not change result type");

            // What pgjdbc does on this error: prepare the statement again. It then works on every backend.
            wire.send(concat(closeStatement("ddl"), parse("ddl", "select * from prep_ddl"), sync()));
            assertEquals("31Z", PgWire.types(wire.readUntilReady(1)));
            for (int i = 0; i < 2; i++) {
                other.simpleQuery("begin; select 1");
                assertEquals(List.of("7"), runNamed("ddl"));
                other.simpleQuery("commit");
                assertEquals(List.of("7"), runNamed("ddl"));
            }
            other.terminate();
        }
    }

    private List<String> runNamed(String statement) {
        wire.send(concat(bind(statement), execute(), sync()));
        List<Message> messages = wire.readUntilReady(1);
        assertEquals("2DCZ", PgWire.types(messages));
        return PgWire.firstColumn(messages);
    }
}
