package com.perseusproxy.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Supplier;

/** Feeds a decoder on an {@link EmbeddedChannel} in fragments and returns what it decoded, detached from buffers. */
final class DecoderHarness {

    private DecoderHarness() {
    }

    /** A decoded {@link PgMessage}, copied out of its buffer: the tag and the whole frame (tag, length, payload). */
    record Frame(char tag, byte[] bytes) {

        static Frame of(byte[] frame) {
            return new Frame((char) (frame[0] & 0xff), frame);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof Frame that && tag == that.tag && Arrays.equals(bytes, that.bytes);
        }

        @Override
        public int hashCode() {
            return 31 * tag + Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            String head = HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 24));
            return "Frame['" + tag + "', " + bytes.length + " bytes: " + head + (bytes.length > 24 ? "...]" : "]");
        }
    }

    /** Decodes the whole stream in one write. */
    static List<Object> decodeWhole(Supplier<ChannelHandler> decoder, byte[] stream) {
        return decode(decoder, stream, new int[] {stream.length}, true);
    }

    /** Decodes {@code stream[0, offset)} then {@code stream[offset, end)}. */
    static List<Object> decodeSplitAt(Supplier<ChannelHandler> decoder, byte[] stream, int offset) {
        // Without leak-detector wrappers: this runs once per byte offset and paranoid tracing is slow.
        return decode(decoder, stream, new int[] {offset, stream.length}, false);
    }

    /** Decodes the stream one byte per write. */
    static List<Object> decodeOneByteAtATime(Supplier<ChannelHandler> decoder, byte[] stream) {
        int[] ends = new int[stream.length];
        for (int i = 0; i < ends.length; i++) {
            ends[i] = i + 1;
        }
        return decode(decoder, stream, ends, true);
    }

    /**
     * Writes {@code stream} as fragments ending at {@code ends}, reads and releases everything decoded, and checks
     * that the channel holds nothing more and that every buffer (input, cumulation, frames) was released.
     */
    static List<Object> decode(Supplier<ChannelHandler> decoder, byte[] stream, int[] ends, boolean leakAware) {
        TrackingAllocator alloc = new TrackingAllocator(leakAware);
        EmbeddedChannel channel = new EmbeddedChannel(decoder.get());
        channel.config().setAllocator(alloc);
        int from = 0;
        for (int end : ends) {
            channel.writeInbound(alloc.copyOf(stream, from, end));
            from = end;
        }
        List<Object> decoded = readAll(channel);
        assertFalse(channel.finish(), "nothing may be left in the channel");
        alloc.assertAllReleased();
        return decoded;
    }

    /** Every message decoded so far, {@link PgMessage}s copied into {@link Frame}s and released. */
    static List<Object> readAll(EmbeddedChannel channel) {
        List<Object> decoded = new ArrayList<>();
        for (Object message; (message = channel.readInbound()) != null; ) {
            decoded.add(detach(message));
        }
        return decoded;
    }

    static Object detach(Object message) {
        try {
            if (message instanceof PgMessage pg) {
                byte[] bytes = ByteBufUtil.getBytes(pg.frame());
                assertEquals(bytes.length - PgMessage.HEADER_LENGTH, pg.payloadLength(), "payload length");
                return new Frame(pg.tag(), bytes);
            }
            if (message instanceof StartupPacket) {
                return message;
            }
            return fail("unexpected decoded object " + message);
        } finally {
            ReferenceCountUtil.release(message);
        }
    }

    /**
     * Feeds a stream the decoder must reject; returns the error. Anything decoded before it is released, and the
     * channel must then close without raising the same error again.
     */
    static PgProtocolException decodeExpectingError(Supplier<ChannelHandler> decoder, byte[] stream) {
        TrackingAllocator alloc = new TrackingAllocator();
        EmbeddedChannel channel = new EmbeddedChannel(decoder.get());
        channel.config().setAllocator(alloc);
        PgProtocolException error = assertThrows(PgProtocolException.class,
                () -> channel.writeInbound(alloc.copyOf(stream)));
        readAll(channel);
        assertFalse(channel.finish(), "nothing may be left in the channel");
        alloc.assertAllReleased();
        return error;
    }
}
