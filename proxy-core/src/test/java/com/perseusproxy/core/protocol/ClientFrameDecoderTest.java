package com.perseusproxy.core.protocol;

import static com.perseusproxy.core.protocol.DecoderHarness.decodeExpectingError;
import static com.perseusproxy.core.protocol.DecoderHarness.decodeOneByteAtATime;
import static com.perseusproxy.core.protocol.DecoderHarness.decodeSplitAt;
import static com.perseusproxy.core.protocol.DecoderHarness.decodeWhole;
import static com.perseusproxy.core.protocol.DecoderHarness.readAll;
import static com.perseusproxy.core.protocol.Wire.bytes;
import static com.perseusproxy.core.protocol.Wire.concat;
import static com.perseusproxy.core.protocol.Wire.tagged;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.protocol.DecoderHarness.Frame;
import com.perseusproxy.core.protocol.StartupPacket.Cancel;
import com.perseusproxy.core.protocol.StartupPacket.GssEncRequest;
import com.perseusproxy.core.protocol.StartupPacket.SslRequest;
import com.perseusproxy.core.protocol.StartupPacket.Startup;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientFrameDecoderTest {

    private static final int MAX_MESSAGE_BYTES = 1024 * 1024;
    private static final Supplier<ChannelHandler> DECODER = () -> new ClientFrameDecoder(MAX_MESSAGE_BYTES);

    private static final Map<String, String> PARAMETERS = parameters(
            "user", "alice",
            "database", "appdb",
            "options", "-c search_path=tenant_a -c TimeZone=UTC",
            "application_name", "psql",
            "client_encoding", "UTF8");

    private static final byte[] QUERY = tagged('Q', bytes().cstring("SELECT 1"));
    private static final byte[] PARSE = tagged('P', bytes().cstring("s1").cstring("SELECT $1::int").int16(1).int32(23));
    private static final byte[] BIND = tagged('B',
            bytes().cstring("").cstring("s1").int16(0).int16(1).int32(2).raw("42").int16(0));
    private static final byte[] DESCRIBE = tagged('D', bytes().byte1('P').cstring(""));
    private static final byte[] EXECUTE = tagged('E', bytes().cstring("").int32(0));
    private static final byte[] SYNC = tagged('S', new byte[0]);
    /** Larger than 64 KiB, so it spans many reads and any fixed-size buffer. */
    private static final byte[] COPY_DATA = tagged('d', Wire.pattern(70_000));
    /** No client may send this type: refused (PostgreSQL's SocketBackend answers 08P01 from the header alone). */
    private static final byte[] UNKNOWN_TAG = tagged('y', bytes().raw("not a message PostgreSQL 3.0 knows"));
    private static final byte[] FLUSH_WITH_EMPTY_PAYLOAD = tagged('H', new byte[0]);
    private static final byte[] TERMINATE = tagged('X', new byte[0]);

    private static final List<byte[]> TAGGED = List.of(QUERY, PARSE, BIND, DESCRIBE, EXECUTE, SYNC, COPY_DATA,
            FLUSH_WITH_EMPTY_PAYLOAD, TERMINATE);

    /** StartupMessage, then every tagged sample. */
    private static final byte[] SESSION_STREAM = sessionStream();

    private static final int PROCESS_ID = 0x1234_5678;
    private static final int SECRET_KEY = 0x8765_4321;
    /** A CancelRequest and bytes after it, which must be ignored. */
    private static final byte[] CANCEL_STREAM = concat(Wire.cancelRequest(PROCESS_ID, SECRET_KEY), QUERY,
            bytes().raw("garbage that is no message at all").toArray());

    // ---- whole stream and fragments ----------------------------------------------------------------------------

    @Test
    void wholeSessionStreamDecodesToTheHandWrittenSequence() {
        assertEquals(expectedSession(), decodeWhole(DECODER, SESSION_STREAM));
    }

    @Test
    void sessionStreamSplitAtEveryByteOffsetDecodesTheSame() {
        List<Object> expected = decodeWhole(DECODER, SESSION_STREAM);
        for (int offset = 1; offset < SESSION_STREAM.length; offset++) {
            List<Object> actual = decodeSplitAt(DECODER, SESSION_STREAM, offset);
            if (!expected.equals(actual)) {
                assertEquals(expected, actual, "split at byte offset " + offset);
            }
        }
    }

    @Test
    void sessionStreamInOneByteFragmentsDecodesTheSame() {
        assertEquals(decodeWhole(DECODER, SESSION_STREAM), decodeOneByteAtATime(DECODER, SESSION_STREAM));
    }

    @Test
    void startupParametersKeepTheirArrivalOrder() {
        Startup startup = (Startup) decodeWhole(DECODER, Wire.startup(PARAMETERS)).get(0);
        assertEquals(3, startup.majorVersion());
        assertEquals(0, startup.minorVersion());
        assertEquals(List.copyOf(PARAMETERS.keySet()), List.copyOf(startup.parameters().keySet()));
    }

    @Test
    void startupWithoutParametersIsJustTheTerminator() {
        byte[] empty = Wire.untagged(bytes().int32(Wire.PROTOCOL_3_0).byte1(0).toArray());
        assertEquals(List.of(new Startup(3, 0, Map.of())), decodeWhole(DECODER, empty));
    }

    @Test
    void gssEncRequestThenSslRequestThenStartupStayInStartupUntilTheStartupMessage() {
        // Each request is answered before the client goes on, so each arrives in a read of its own.
        EmbeddedChannel channel = new EmbeddedChannel(DECODER.get());
        channel.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(Wire.gssEncRequest()));
        channel.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(Wire.sslRequest()));
        channel.writeInbound(io.netty.buffer.Unpooled.wrappedBuffer(concat(Wire.startup(PARAMETERS), SYNC)));
        List<Object> decoded = readAll(channel);
        assertEquals(List.of(new GssEncRequest(), new SslRequest(), new Startup(3, 0, PARAMETERS), Frame.of(SYNC)),
                decoded);
        decoded.forEach(io.netty.util.ReferenceCountUtil::release);
        assertFalse(channel.finish());
    }

    @ParameterizedTest
    @ValueSource(strings = {"ssl", "gssenc"})
    void bytesArrivingWithAnEncryptionRequestAreAProtocolViolation(String kind) {
        // CVE-2021-23214: whatever came with the request was sent before any handshake, in plaintext.
        byte[] request = kind.equals("ssl") ? Wire.sslRequest() : Wire.gssEncRequest();
        PgProtocolException error = decodeExpectingError(DECODER, concat(request, Wire.startup(PARAMETERS)));
        assertTrue(error.getMessage().contains("received unencrypted data after"), error.getMessage());
    }

    @Test
    void cancelRequestIsDecodedAndEverythingAfterItIgnoredAtEverySplit() {
        List<Object> expected = List.of(new Cancel(PROCESS_ID, SECRET_KEY));
        assertEquals(expected, decodeWhole(DECODER, CANCEL_STREAM));
        assertEquals(expected, decodeOneByteAtATime(DECODER, CANCEL_STREAM));
        for (int offset = 1; offset < CANCEL_STREAM.length; offset++) {
            assertEquals(expected, decodeSplitAt(DECODER, CANCEL_STREAM, offset), "split at byte offset " + offset);
        }
    }

    @Test
    void bytesAfterACancelRequestAreIgnoredEvenIfTheyWouldBeInvalid() {
        byte[] invalidStartupLength = bytes().int32(3).int32(0).toArray();
        byte[] stream = concat(Wire.cancelRequest(PROCESS_ID, SECRET_KEY), invalidStartupLength);
        assertEquals(List.of(new Cancel(PROCESS_ID, SECRET_KEY)), decodeWhole(DECODER, stream));
    }

    // ---- no copy -----------------------------------------------------------------------------------------------

    @Test
    void taggedFramesAreSlicesOfTheInputMemory() {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(DECODER.get());
        channel.config().setAllocator(alloc);
        ByteBuf input = alloc.copyOf(SESSION_STREAM);
        byte[] memory = input.array();
        channel.writeInbound(input);

        assertTrue(channel.readInbound() instanceof Startup);
        int offset = Wire.startup(PARAMETERS).length;
        for (byte[] expected : TAGGED) {
            PgMessage message = channel.readInbound();
            try {
                ByteBuf frame = message.frame();
                assertNotNull(frame.unwrap(), "a derived buffer");
                assertTrue(memory == frame.array(), "shares the input's memory");
                assertEquals(offset, frame.arrayOffset() + frame.readerIndex(), "at the frame's place in the input");
                assertEquals(expected.length, frame.readableBytes());
            } finally {
                message.release();
            }
            offset += expected.length;
        }
        assertFalse(channel.finish());
        alloc.assertAllReleased();
    }

    // ---- bad input ---------------------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, Integer.MIN_VALUE, -1})
    void messageLengthBelowFourIsAProtocolError(int length) {
        byte[] stream = concat(Wire.startup(PARAMETERS), bytes().byte1('Q').int32(length).toArray());
        PgProtocolException error = decodeExpectingError(DECODER, stream);
        assertTrue(error.getMessage().contains("invalid message length " + length), error.getMessage());
    }

    @Test
    void messageLengthOverTheCapIsRejectedFromItsHeaderAloneNamingTheLimit() {
        int cap = 1024;
        byte[] headerOnly = bytes().byte1('d').int32(cap + 1).toArray();
        PgProtocolException error = decodeExpectingError(() -> new ClientFrameDecoder(cap),
                concat(Wire.startup(PARAMETERS), headerOnly));
        assertTrue(error.getMessage().contains("limit of 1024 bytes"), error.getMessage());
        assertTrue(error.getMessage().contains("MaxMessageBytes"), error.getMessage());
    }

    @Test
    void messageLengthEqualToTheCapIsAccepted() {
        int cap = 1024;
        byte[] atCap = tagged('d', new byte[cap - 4]);
        assertEquals(List.of(new Startup(3, 0, PARAMETERS), Frame.of(atCap)),
                decodeWhole(() -> new ClientFrameDecoder(cap), concat(Wire.startup(PARAMETERS), atCap)));
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 0, 4, 7, 10_001, Integer.MAX_VALUE})
    void startupPacketLengthOutside8To10000IsAProtocolError(int length) {
        byte[] stream = bytes().int32(length).int32(Wire.PROTOCOL_3_0).byte1(0).toArray();
        PgProtocolException error = decodeExpectingError(DECODER, stream);
        assertTrue(error.getMessage().contains("invalid length of startup packet: " + length), error.getMessage());
    }

    @Test
    void startupPacketLengthBelow8IsRejectedAsSoonAsTheLengthArrives() {
        // A client that sends only a bad length word must not be left waiting for more bytes.
        PgProtocolException error = decodeExpectingError(DECODER, bytes().int32(4).toArray());
        assertTrue(error.getMessage().contains("invalid length of startup packet: 4"), error.getMessage());
    }

    @Test
    void startupPacketOfExactly10000BytesIsAccepted() {
        String filler = "x".repeat(10_000 - 4 - 4 - "user\0alice\0database\0appdb\0application_name\0".length() - 2);
        Map<String, String> parameters = parameters("user", "alice", "database", "appdb", "application_name", filler);
        byte[] packet = Wire.startup(parameters);
        assertEquals(10_000, packet.length);
        assertEquals(List.of(new Startup(3, 0, parameters)), decodeWhole(DECODER, packet));
    }

    @Test
    void startupPacketWithoutTheFinalTerminatorIsAProtocolError() {
        byte[] packet = Wire.untagged(bytes().int32(Wire.PROTOCOL_3_0).cstring("user").cstring("alice").toArray());
        PgProtocolException error = decodeExpectingError(DECODER, packet);
        assertTrue(error.getMessage().contains("expected terminator"), error.getMessage());
    }

    @Test
    void startupPacketWithANameButNoValueIsAProtocolError() {
        byte[] packet = Wire.untagged(bytes().int32(Wire.PROTOCOL_3_0).cstring("user").toArray());
        decodeExpectingError(DECODER, packet);
    }

    @Test
    void startupPacketWithAnUnterminatedStringIsAProtocolError() {
        byte[] packet = Wire.untagged(bytes().int32(Wire.PROTOCOL_3_0).cstring("user").raw("alice").toArray());
        PgProtocolException error = decodeExpectingError(DECODER, packet);
        assertTrue(error.getMessage().contains("unterminated string"), error.getMessage());
    }

    @Test
    void startupPacketWithBytesAfterTheTerminatorIsAProtocolError() {
        // PostgreSQL: "invalid startup packet layout: expected terminator as last byte".
        byte[] packet = Wire.untagged(bytes().int32(Wire.PROTOCOL_3_0).cstring("user").cstring("alice").byte1(0)
                .cstring("database").cstring("appdb").byte1(0).toArray());
        PgProtocolException error = decodeExpectingError(DECODER, packet);
        assertTrue(error.getMessage().contains("expected terminator as last byte"), error.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {8, 12, 20})
    void cancelRequestOfTheWrongLengthIsAProtocolError(int length) {
        byte[] packet = bytes().int32(length).int32(Wire.CANCEL_REQUEST_CODE).raw(new byte[length - 8]).toArray();
        PgProtocolException error = decodeExpectingError(DECODER, packet);
        assertTrue(error.getMessage().contains("invalid length of cancel request: " + length), error.getMessage());
    }

    @Test
    void secondStartupPacketInsideTheSessionIsRefusedFromItsFirstFiveBytes() {
        // A StartupMessage starts with its length (0x00 0x00 0x00 n), so it reads as tag 0x00 with a length of
        // megabytes: PostgreSQL refuses it at once; waiting for those bytes would hang the client.
        byte[] secondStartup = Wire.startup(PARAMETERS);
        for (int available = 5; available <= secondStartup.length; available += secondStartup.length - 5) {
            byte[] stream = concat(Wire.startup(PARAMETERS), QUERY, java.util.Arrays.copyOf(secondStartup, available));
            PgProtocolException error = decodeExpectingError(DECODER, stream);
            assertTrue(error.getMessage().startsWith("invalid frontend message type 0 ('\\x00')"), error.getMessage());
            assertTrue(error.getMessage().contains("second startup packet"), error.getMessage());
        }
    }

    @ParameterizedTest
    @ValueSource(chars = {'y', 'A', 'R', 'T', 'Z', '1', 0x7f, 0xff})
    void everyTagNoClientMaySendIsRefusedBeforeItsBodyArrives(char tag) {
        byte[] headerOnly = bytes().byte1(tag).int32(1_000_000).toArray();
        PgProtocolException error = decodeExpectingError(DECODER, concat(Wire.startup(PARAMETERS), headerOnly));
        assertTrue(error.getMessage().startsWith("invalid frontend message type " + (int) tag), error.getMessage());
    }

    @Test
    void unknownTagAfterValidMessagesStillDeliversThoseFirst() {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(DECODER.get());
        channel.config().setAllocator(alloc);
        try {
            channel.writeInbound(alloc.copyOf(concat(Wire.startup(PARAMETERS), QUERY, UNKNOWN_TAG)));
        } catch (PgProtocolException expected) {
            // reported once
        }
        assertEquals(List.of(new Startup(3, 0, PARAMETERS), Frame.of(QUERY)), readAll(channel));
        assertFalse(channel.finish());
        alloc.assertAllReleased();
    }

    @Test
    void afterAProtocolErrorFurtherBytesAndTheCloseRaiseNothingMore() {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(DECODER.get());
        channel.config().setAllocator(alloc);
        byte[] bad = concat(Wire.startup(PARAMETERS), QUERY, bytes().byte1('Q').int32(2).toArray());
        try {
            channel.writeInbound(alloc.copyOf(bad));
        } catch (PgProtocolException expected) {
            // the one report of the violation
        }
        List<Object> before = readAll(channel);
        assertEquals(List.of(new Startup(3, 0, PARAMETERS), Frame.of(QUERY)), before, "decoded before the error");

        channel.writeInbound(alloc.copyOf(SYNC)); // arrives before the close completes: ignored, no second error
        assertEquals(List.of(), readAll(channel));
        assertFalse(channel.finish(), "closing raises no second error");
        alloc.assertAllReleased();
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static byte[] sessionStream() {
        List<byte[]> parts = new ArrayList<>();
        parts.add(Wire.startup(PARAMETERS));
        parts.addAll(TAGGED);
        return concat(parts.toArray(byte[][]::new));
    }

    private static List<Object> expectedSession() {
        List<Object> expected = new ArrayList<>();
        expected.add(new Startup(3, 0, PARAMETERS));
        TAGGED.forEach(frame -> expected.add(Frame.of(frame)));
        return expected;
    }

    private static Map<String, String> parameters(String... namesAndValues) {
        Map<String, String> parameters = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            parameters.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return parameters;
    }
}
