package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.perseusproxy.server.it.PgWire.Message;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The message sequences a transaction pooler most often gets wrong, checked byte-for-byte at message level: what the
 * client receives must be exactly what PostgreSQL would send, with nothing injected, and a backend must stay with
 * the client until every Sync has been answered. Message types: 1 ParseComplete, 2 BindComplete, T RowDescription,
 * n NoData, D DataRow, C CommandComplete, E ErrorResponse, I EmptyQueryResponse, Z ReadyForQuery.
 */
class WireProtocolTest {

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
    void simpleQueryGetsNothingButItsOwnMessages() {
        // Nothing the proxy runs on its own (SET search_path, ParameterStatus of its SETs) may show up here.
        List<Message> messages = wire.simpleQuery("select current_schema()");
        assertEquals("TDCZ", PgWire.types(messages));
        assertEquals(List.of(Fixtures.TENANT_A.schema()), PgWire.firstColumn(messages));
    }

    @Test
    void multiStatementQueryEndsWithOneReadyForQuery() {
        List<Message> messages = wire.simpleQuery("begin; select 1; commit; select current_schema()");
        assertEquals("CTDCCTDCZ", PgWire.types(messages));
        assertEquals(List.of("1", Fixtures.TENANT_A.schema()), PgWire.firstColumn(messages));
        assertEquals("I", PgWire.transactionStates(messages));
    }

    @Test
    void functionCallIsAnsweredAndReleasesTheBackend() {
        // FunctionCall ('F') is the legacy fast-path protocol (libpq's PQfn, large objects): answered by a
        // FunctionCallResponse and a ReadyForQuery of its own, like a simple Query.
        int length = Integer.parseInt(PgWire.firstColumn(wire.simpleQuery(
                "select 'length(text)'::regprocedure::oid")).get(0));
        byte[] argument = "tenant".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        java.nio.ByteBuffer call = java.nio.ByteBuffer.allocate(4 + 2 + 2 + 4 + argument.length + 2);
        call.putInt(length).putShort((short) 0).putShort((short) 1).putInt(argument.length).put(argument)
                .putShort((short) 0);
        wire.send(PgWire.message('F', call.array()));
        List<Message> reply = wire.readUntilReady(1);
        assertEquals("VZ", PgWire.types(reply), reply.toString());
        byte[] body = reply.get(0).body();
        assertEquals("6", new String(body, 4, body.length - 4, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals("I", PgWire.transactionStates(reply));
        // The session goes on normally after it.
        assertEquals(List.of(Fixtures.TENANT_A.schema()), PgWire.firstColumn(wire.simpleQuery(
                "select current_schema()")));
    }

    @Test
    void emptySimpleQuery() {
        assertEquals("IZ", PgWire.types(wire.simpleQuery("")));
    }

    @Test
    void transactionStatusIsReportedFaithfully() {
        assertEquals("T", PgWire.transactionStates(wire.simpleQuery("begin")));
        List<Message> failed = wire.simpleQuery("select 1/0");
        assertEquals("EZ", PgWire.types(failed));
        assertEquals("22012", failed.get(0).sqlState());
        assertEquals("E", PgWire.transactionStates(failed));
        assertEquals("I", PgWire.transactionStates(wire.simpleQuery("rollback")));
    }

    @Test
    void nextTransactionPipelinedBehindSync() {
        // Two complete transactions in one write: the second is already queued when the first one's ReadyForQuery
        // (the moment a pooler would release the backend) comes back.
        String body = Fixtures.body(Fixtures.TENANT_A, "wire-pipelined");
        wire.send(concat(
                PgWire.extendedQuery("insert into notes (body) values ('" + body + "')"),
                PgWire.extendedQuery("select count(*) from notes where body = '" + body + "'"),
                PgWire.extendedQuery("delete from notes where body = '" + body + "'"),
                PgWire.extendedQuery("select current_schema()")));
        List<Message> messages = wire.readUntilReady(4);
        assertEquals("12nCZ" + "12TDCZ" + "12nCZ" + "12TDCZ", PgWire.types(messages));
        assertEquals(List.of("1", Fixtures.TENANT_A.schema()), PgWire.firstColumn(messages));
    }

    @Test
    void errorSkipsToSyncAndTheNextGroupRuns() {
        wire.send(concat(
                PgWire.parse("select * from no_such_table"), PgWire.bind(), PgWire.execute(), PgWire.sync(),
                PgWire.extendedQuery("select current_schema()")));
        List<Message> messages = wire.readUntilReady(2);
        assertEquals("EZ" + "12TDCZ", PgWire.types(messages));
        assertEquals("42P01", messages.get(0).sqlState());
        assertEquals(List.of(Fixtures.TENANT_A.schema()), PgWire.firstColumn(messages));
    }

    @Test
    void flushAnswersWithoutEndingTheExchange() {
        // After Flush the client still owns the backend: its unnamed statement must still be there for the Bind.
        wire.send(concat(PgWire.parse("select current_schema()"), PgWire.describeStatement(),
                PgWire.flush()));
        assertEquals('1', wire.read().type());
        assertEquals('t', wire.read().type());
        assertEquals('T', wire.read().type());
        wire.send(concat(PgWire.bind(), PgWire.execute(), PgWire.sync()));
        List<Message> rest = wire.readUntilReady(1);
        assertEquals("2DCZ", PgWire.types(rest));
        assertEquals(List.of(Fixtures.TENANT_A.schema()), PgWire.firstColumn(rest));
    }

    @Test
    void emptyExtendedQuery() {
        wire.send(PgWire.extendedQuery(""));
        assertEquals("12nIZ", PgWire.types(wire.readUntilReady(1)));
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] all = new byte[length];
        int offset = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, all, offset, p.length);
            offset += p.length;
        }
        return all;
    }
}
