package com.perseusproxy.core.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

/** Parse, Bind, Describe and Close as the proxy reads and renames them, checked against hand-written bytes. */
class ExtendedQueryMessagesTest {

    private final TrackingAllocator alloc = new TrackingAllocator();

    @Test
    void parseIsReadAndRewrittenUnderAnotherName() {
        byte[] definition = Wire.bytes().cstring("select $1").int16(1).int32(23).toArray();
        PgMessage original = message(Wire.tagged('P', Wire.bytes().cstring("S_1").raw(definition)));
        ExtendedQueryMessages.Parse parse = ExtendedQueryMessages.readParse(original);
        assertEquals("S_1", parse.name());
        assertArrayEquals(definition, parse.definition());
        assertEquals("S_1", ExtendedQueryMessages.parseName(original));
        original.release();

        ByteBuf renamed = ExtendedQueryMessages.parse(alloc, "perseus_x", definition);
        assertArrayEquals(Wire.tagged('P', Wire.bytes().cstring("perseus_x").raw(definition)),
                ByteBufUtil.getBytes(renamed));
        renamed.release();
        alloc.assertAllReleased();
    }

    @Test
    void bindIsRenamedWithItsParametersCopiedOrSharedBySize() {
        assertBindRenamed("abc");
        assertBindRenamed("x".repeat(ExtendedQueryMessages.COPY_LIMIT * 4));
    }

    private void assertBindRenamed(String parameter) {
        Wire rest = Wire.bytes().int16(1).int16(1).int16(1).int32(parameter.length()).raw(parameter).int16(0);
        PgMessage original = message(Wire.tagged('B', Wire.bytes().cstring("portal").cstring("S_1")
                .raw(rest.toArray())));
        ExtendedQueryMessages.Bind bind = ExtendedQueryMessages.readBind(original);
        assertEquals("portal", bind.portal());
        assertEquals("S_1", bind.statement());

        ByteBuf renamed = ExtendedQueryMessages.renameBind(alloc, original, bind, "perseus_0123456789");
        original.release(); // the renamed message holds its own reference to the parameters
        assertEquals(1, renamed.refCnt());
        assertArrayEquals(Wire.tagged('B', Wire.bytes().cstring("portal").cstring("perseus_0123456789")
                .raw(rest.toArray())), ByteBufUtil.getBytes(renamed));
        renamed.release();
        alloc.assertAllReleased();
    }

    @Test
    void describeAndCloseTargets() {
        PgMessage describe = message(Wire.tagged('D', Wire.bytes().byte1('S').cstring("S_2")));
        ExtendedQueryMessages.Target target = ExtendedQueryMessages.readTarget(describe);
        assertEquals('S', target.kind());
        assertTrue(target.isNamedStatement());
        describe.release();
        PgMessage portal = message(Wire.tagged('C', Wire.bytes().byte1('P').cstring("S_2")));
        assertFalse(ExtendedQueryMessages.readTarget(portal).isNamedStatement());
        portal.release();
        PgMessage unnamed = message(Wire.tagged('C', Wire.bytes().byte1('S').cstring("")));
        assertFalse(ExtendedQueryMessages.readTarget(unnamed).isNamedStatement());
        unnamed.release();
        PgMessage empty = message(Wire.tagged('D', new byte[0]));
        assertThrows(PgProtocolException.class, () -> ExtendedQueryMessages.readTarget(empty));
        empty.release();

        ByteBuf close = ExtendedQueryMessages.closeStatement(alloc, "perseus_a");
        assertArrayEquals(Wire.tagged('C', Wire.bytes().byte1('S').cstring("perseus_a")), ByteBufUtil.getBytes(close));
        close.release();
        ByteBuf describeOut = ExtendedQueryMessages.describeStatement(alloc, "perseus_a");
        assertArrayEquals(Wire.tagged('D', Wire.bytes().byte1('S').cstring("perseus_a")),
                ByteBufUtil.getBytes(describeOut));
        describeOut.release();
        alloc.assertAllReleased();
    }

    @Test
    void madeUpReplies() {
        assertArrayEquals(new byte[] {'1', 0, 0, 0, 4}, ByteBufUtil.getBytes(ExtendedQueryMessages.parseComplete()));
        assertArrayEquals(new byte[] {'3', 0, 0, 0, 4}, ByteBufUtil.getBytes(ExtendedQueryMessages.closeComplete()));
    }

    @Test
    void whichStatementAMessageNamesIsReadOnItsBytes() {
        // The data path's checks: each must agree with what the full readers would say, and a malformed message
        // must answer false to all (it is then forwarded untouched and PostgreSQL judges it).
        assertNames(true, Wire.tagged('P', Wire.bytes().cstring("").cstring("select 1").int16(0)), "Parse(\"\")");
        assertNames(false, Wire.tagged('P', Wire.bytes().cstring("S_1").cstring("select 1").int16(0)), "Parse(S_1)");
        assertNames(false, Wire.tagged('P', Wire.bytes()), "empty Parse");

        assertBinds(true, Wire.tagged('B', Wire.bytes().cstring("").cstring("").int16(0).int16(0).int16(0)));
        assertBinds(true, Wire.tagged('B', Wire.bytes().cstring("portal").cstring("").int16(0).int16(0).int16(0)));
        assertBinds(false, Wire.tagged('B', Wire.bytes().cstring("").cstring("S_1").int16(0).int16(0).int16(0)));
        assertBinds(false, Wire.tagged('B', Wire.bytes().raw("unterminated")));
        assertBinds(false, Wire.tagged('B', Wire.bytes().cstring("portal-only")));

        assertTargets(true, false, Wire.tagged('D', Wire.bytes().raw("S").cstring("")));
        assertTargets(false, true, Wire.tagged('D', Wire.bytes().raw("S").cstring("S_1")));
        assertTargets(false, false, Wire.tagged('D', Wire.bytes().raw("P").cstring("")));
        assertTargets(false, false, Wire.tagged('C', Wire.bytes().raw("P").cstring("portal")));
        assertTargets(false, false, Wire.tagged('C', Wire.bytes().raw("S")));
    }

    private static void assertNames(boolean unnamed, byte[] frame, String what) {
        PgMessage parse = message(frame);
        assertEquals(unnamed, ExtendedQueryMessages.parsesUnnamed(parse), what);
        parse.release();
    }

    private static void assertBinds(boolean unnamed, byte[] frame) {
        PgMessage bind = message(frame);
        assertEquals(unnamed, ExtendedQueryMessages.bindsUnnamed(bind));
        bind.release();
    }

    private static void assertTargets(boolean unnamedStatement, boolean namedStatement, byte[] frame) {
        PgMessage target = message(frame);
        assertEquals(unnamedStatement, ExtendedQueryMessages.targetsStatement(target, true));
        assertEquals(namedStatement, ExtendedQueryMessages.targetsStatement(target, false));
        target.release();
    }

    @Test
    void unterminatedNameIsAProtocolViolation() {
        PgMessage parse = message(Wire.tagged('P', Wire.bytes().raw("S_1")));
        assertThrows(PgProtocolException.class, () -> ExtendedQueryMessages.parseName(parse));
        parse.release();
    }

    private static PgMessage message(byte[] frame) {
        return new PgMessage(Unpooled.wrappedBuffer(frame));
    }
}
