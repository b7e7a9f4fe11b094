package com.perseusproxy.core.protocol;

import static com.perseusproxy.core.protocol.EncodingAssertions.assertEncodes;
import static com.perseusproxy.core.protocol.Wire.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Encodings checked against the layouts in the PostgreSQL "Message Formats" documentation. */
class ServerMessagesTest {

    private final TrackingAllocator alloc = new TrackingAllocator();

    @AfterEach
    void everyBufferReleased() {
        alloc.assertAllReleased();
    }

    @Test
    void authenticationOk() {
        assertEncodes(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0}, ServerMessages.authenticationOk());
    }

    @Test
    void authenticationCleartextPassword() {
        assertEncodes(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 3}, ServerMessages.authenticationCleartextPassword());
    }

    @Test
    void sharedConstantsAreFreshViewsEveryCall() {
        ByteBuf first = ServerMessages.authenticationOk();
        first.skipBytes(first.readableBytes());
        first.release();
        first.release(); // releasing a constant's view never frees the constant
        assertEncodes(new byte[] {'R', 0, 0, 0, 8, 0, 0, 0, 0}, ServerMessages.authenticationOk());
    }

    @Test
    void encryptionRefusedIsTheSingleByteN() {
        assertEncodes(new byte[] {'N'}, ServerMessages.encryptionRefused());
    }

    @Test
    void readyForQueryIdle() {
        assertEncodes(new byte[] {'Z', 0, 0, 0, 5, 'I'}, ServerMessages.readyForQuery(alloc, 'I'));
    }

    @Test
    void readyForQueryInFailedTransaction() {
        assertEncodes(new byte[] {'Z', 0, 0, 0, 5, 'E'}, ServerMessages.readyForQuery(alloc, 'E'));
    }

    @Test
    void parameterStatus() {
        byte[] payload = bytes().cstring("client_encoding").cstring("UTF8").toArray();
        assertEncodes(bytes().byte1('S').int32(4 + payload.length).raw(payload).toArray(),
                ServerMessages.parameterStatus(alloc, "client_encoding", "UTF8"));
    }

    @Test
    void backendKeyData() {
        assertEncodes(new byte[] {'K', 0, 0, 0, 12, 0x12, 0x34, 0x56, 0x78, (byte) 0x87, 0x65, 0x43, 0x21},
                ServerMessages.backendKeyData(alloc, 0x1234_5678, 0x8765_4321));
    }

    @Test
    void errorResponseHasSeverityVerbatimSeverityCodeMessageAndTerminator() {
        byte[] fields = bytes()
                .byte1('S').cstring("FATAL")
                .byte1('V').cstring("FATAL")
                .byte1('C').cstring("28P01")
                .byte1('M').cstring("password authentication failed for user \"bob\"")
                .byte1(0).toArray();
        assertEncodes(bytes().byte1('E').int32(4 + fields.length).raw(fields).toArray(),
                ServerMessages.errorResponse(alloc, "FATAL", "28P01", "password authentication failed for user \"bob\""));
    }

    @Test
    void errorResponseFromAFatalPgException() {
        byte[] fields = bytes().byte1('S').cstring("FATAL").byte1('V').cstring("FATAL")
                .byte1('C').cstring("3D000").byte1('M').cstring("no database").byte1(0).toArray();
        assertEncodes(bytes().byte1('E').int32(4 + fields.length).raw(fields).toArray(),
                ServerMessages.errorResponse(alloc, new PgException("3D000", "no database")));
    }

    @Test
    void errorResponseFromANonFatalPgExceptionIsAnError() {
        byte[] fields = bytes().byte1('S').cstring("ERROR").byte1('V').cstring("ERROR")
                .byte1('C').cstring("0A000").byte1('M').cstring("not here").byte1(0).toArray();
        assertEncodes(bytes().byte1('E').int32(4 + fields.length).raw(fields).toArray(),
                ServerMessages.errorResponse(alloc, new PgException("0A000", "not here", false, null)));
    }

    @Test
    void errorMessageIsUtf8() {
        byte[] fields = bytes().byte1('S').cstring("ERROR").byte1('V').cstring("ERROR")
                .byte1('C').cstring("XX000").byte1('M').cstring("schéma ☃").byte1(0).toArray();
        assertEncodes(bytes().byte1('E').int32(4 + fields.length).raw(fields).toArray(),
                ServerMessages.errorResponse(alloc, "ERROR", "XX000", "schéma ☃"));
    }

    @Test
    void noticeResponse() {
        byte[] fields = bytes().byte1('S').cstring("NOTICE").byte1('V').cstring("NOTICE")
                .byte1('C').cstring("00000").byte1('M').cstring("hello").byte1(0).toArray();
        assertEncodes(bytes().byte1('N').int32(4 + fields.length).raw(fields).toArray(),
                ServerMessages.noticeResponse(alloc, "00000", "hello"));
    }

    @Test
    void negotiateProtocolVersionNamesNewestVersionCountAndOptions() {
        byte[] payload = bytes()
                .int32(0x0003_0000) // newest minor version supported: 3.0
                .int32(2)
                .cstring("_pq_.compression")
                .cstring("_pq_.other")
                .toArray();
        assertEncodes(bytes().byte1('v').int32(4 + payload.length).raw(payload).toArray(),
                ServerMessages.negotiateProtocolVersion(alloc, 0, List.of("_pq_.compression", "_pq_.other")));
    }

    @Test
    void negotiateProtocolVersionWithNoUnrecognisedOptions() {
        assertEncodes(new byte[] {'v', 0, 0, 0, 12, 0, 3, 0, 0, 0, 0, 0, 0},
                ServerMessages.negotiateProtocolVersion(alloc, 0, List.of()));
    }

    @Test
    void encodedMessagesDecodeBackToTheSameFrame() {
        ByteBuf encoded = ServerMessages.parameterStatus(alloc, "TimeZone", "UTC");
        PgMessage message = new PgMessage(encoded);
        try {
            assertEquals('S', message.tag());
            assertEquals(List.of("TimeZone", "UTC"), List.of(MessageReader.parameterStatus(message)));
        } finally {
            message.release();
        }
    }
}
