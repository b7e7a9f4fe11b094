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
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The backend side: a server's tagged messages, no startup family. */
class PgFrameDecoderTest {

    private static final int MAX_MESSAGE_BYTES = 1024 * 1024;
    private static final Supplier<ChannelHandler> DECODER = () -> new PgFrameDecoder(MAX_MESSAGE_BYTES);

    private static final byte[] AUTHENTICATION_OK = tagged('R', bytes().int32(0));
    private static final byte[] PARAMETER_STATUS = tagged('S', bytes().cstring("server_version").cstring("17.2"));
    private static final byte[] BACKEND_KEY_DATA = tagged('K', bytes().int32(4242).int32(0x7f00_ff01));
    private static final byte[] READY_IDLE = tagged('Z', bytes().byte1('I'));
    private static final byte[] ROW_DESCRIPTION = tagged('T',
            bytes().int16(1).cstring("payload").int32(0).int16(0).int32(17).int16(-1).int32(-1).int16(1));
    /** A DataRow larger than 64 KiB. */
    private static final byte[] DATA_ROW = tagged('D', bytes().int16(1).int32(70_000).raw(Wire.pattern(70_000)));
    private static final byte[] COMMAND_COMPLETE = tagged('C', bytes().cstring("SELECT 1"));
    private static final byte[] NO_DATA_WITH_EMPTY_PAYLOAD = tagged('n', new byte[0]);
    private static final byte[] UNKNOWN_TAG = tagged('y', bytes().raw("from a future server"));
    private static final byte[] READY_IN_TRANSACTION = tagged('Z', bytes().byte1('T'));

    private static final List<byte[]> MESSAGES = List.of(AUTHENTICATION_OK, PARAMETER_STATUS, BACKEND_KEY_DATA,
            READY_IDLE, ROW_DESCRIPTION, DATA_ROW, COMMAND_COMPLETE, NO_DATA_WITH_EMPTY_PAYLOAD, UNKNOWN_TAG,
            READY_IN_TRANSACTION);
    private static final byte[] STREAM = concat(MESSAGES.toArray(byte[][]::new));

    @Test
    void wholeStreamDecodesToTheHandWrittenFrames() {
        assertEquals(MESSAGES.stream().map(Frame::of).toList(), decodeWhole(DECODER, STREAM));
    }

    @Test
    void streamSplitAtEveryByteOffsetDecodesTheSame() {
        List<Object> expected = decodeWhole(DECODER, STREAM);
        for (int offset = 1; offset < STREAM.length; offset++) {
            List<Object> actual = decodeSplitAt(DECODER, STREAM, offset);
            if (!expected.equals(actual)) {
                assertEquals(expected, actual, "split at byte offset " + offset);
            }
        }
    }

    @Test
    void streamInOneByteFragmentsDecodesTheSame() {
        assertEquals(decodeWhole(DECODER, STREAM), decodeOneByteAtATime(DECODER, STREAM));
    }

    @Test
    void framesAreSlicesOfTheInputMemory() {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(DECODER.get());
        channel.config().setAllocator(alloc);
        ByteBuf input = alloc.copyOf(STREAM);
        byte[] memory = input.array();
        channel.writeInbound(input);

        int offset = 0;
        for (byte[] expected : MESSAGES) {
            PgMessage message = channel.readInbound();
            try {
                ByteBuf frame = message.frame();
                assertNotNull(frame.unwrap(), "a derived buffer");
                assertTrue(memory == frame.array(), "shares the input's memory");
                assertEquals(offset, frame.arrayOffset() + frame.readerIndex(), "at the frame's place in the input");
            } finally {
                message.release();
            }
            offset += expected.length;
        }
        assertFalse(channel.finish());
        alloc.assertAllReleased();
    }

    @Test
    void payloadHelpersReadInPlace() {
        TrackingAllocator alloc = new TrackingAllocator();
        PgMessage ready = new PgMessage(alloc.copyOf(READY_IN_TRANSACTION));
        try {
            assertEquals('Z', ready.tag());
            assertEquals(1, ready.payloadLength());
            assertEquals('T', ready.readyStatus());
            assertEquals(PgMessage.HEADER_LENGTH, ready.payloadIndex());
            assertEquals(1, ready.payload().readableBytes());
            assertEquals("PgMessage[Z, 1 bytes]", ready.toString());
        } finally {
            ready.release();
        }
        alloc.assertAllReleased();
    }

    @Test
    void tagAbove0x7fIsReadAsAnUnsignedByte() {
        byte[] highTag = tagged((char) 0xE9, bytes().raw("x"));
        assertEquals(List.of(new Frame((char) 0xE9, highTag)), decodeWhole(DECODER, highTag));
    }

    @Test
    void unprintableTagIsShownAsHexInErrors() {
        byte[] stream = bytes().byte1(0xE9).int32(2).toArray();
        PgProtocolException error = decodeExpectingError(DECODER, stream);
        assertTrue(error.getMessage().contains("'\\xe9'"), error.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, -1, Integer.MIN_VALUE})
    void lengthBelowFourIsAProtocolError(int length) {
        byte[] stream = concat(READY_IDLE, bytes().byte1('D').int32(length).toArray());
        PgProtocolException error = decodeExpectingError(DECODER, stream);
        assertTrue(error.getMessage().contains("invalid message length " + length + " for message type 'D'"),
                error.getMessage());
    }

    @Test
    void lengthOverTheCapIsRejectedFromTheHeaderAloneNamingTheLimit() {
        byte[] headerOnly = bytes().byte1('D').int32(4097).toArray();
        PgProtocolException error = decodeExpectingError(() -> new PgFrameDecoder(4096), headerOnly);
        assertTrue(error.getMessage().contains("4097 bytes, over the limit of 4096 bytes"), error.getMessage());
    }

    @Test
    void afterAProtocolErrorFurtherBytesAndTheCloseRaiseNothingMore() {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(DECODER.get());
        channel.config().setAllocator(alloc);
        try {
            channel.writeInbound(alloc.copyOf(concat(READY_IDLE, bytes().byte1('Z').int32(1).toArray())));
        } catch (PgProtocolException expected) {
            // the one report of the violation
        }
        assertEquals(List.of(Frame.of(READY_IDLE)), readAll(channel), "decoded before the error");
        channel.writeInbound(alloc.copyOf(COMMAND_COMPLETE));
        assertEquals(List.of(), readAll(channel));
        assertFalse(channel.finish(), "closing raises no second error");
        alloc.assertAllReleased();
    }
}
