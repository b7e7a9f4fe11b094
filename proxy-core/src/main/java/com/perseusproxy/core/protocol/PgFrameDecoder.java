package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a byte stream into tagged messages ({@code Byte1 tag, Int32 length including itself, payload}) and emits each
 * as a {@link PgMessage} holding a retained slice of the input: no payload is copied. Any tag is accepted, so unknown
 * messages pass through. A length below 4 or above the cap is a protocol violation ({@link PgProtocolException}).
 */
public class PgFrameDecoder extends ByteToMessageDecoder {

    private final int maxMessageBytes;
    private boolean broken;

    public PgFrameDecoder(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            decodeTagged(in, out, maxMessageBytes, false);
        } catch (PgProtocolException e) {
            // Report the violation once: the bad bytes must not raise it again on the next read or at close.
            broken = true;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    /**
     * Decodes as many complete tagged messages as {@code in} holds; shared with the client's startup decoder.
     *
     * @param frontendTagsOnly refuse a tag no client may send (from the header alone, before waiting for the body:
     *                         a second startup packet reads as tag 0x00 with a length of megabytes, and PostgreSQL
     *                         answers it at once rather than waiting for bytes that never come). The server's
     *                         stream is not checked: unknown backend messages pass through to the client.
     */
    static void decodeTagged(ByteBuf in, List<Object> out, int maxMessageBytes, boolean frontendTagsOnly) {
        for (;;) {
            if (in.readableBytes() < PgMessage.HEADER_LENGTH) {
                return;
            }
            int start = in.readerIndex();
            char tag = (char) in.getUnsignedByte(start);
            if (frontendTagsOnly && !FrontendTag.isKnown(tag)) {
                throw new PgProtocolException("invalid frontend message type " + (int) tag + " ('" + printable(tag)
                        + "'): not a message of protocol 3.0"
                        + (tag == 0 ? " (a second startup packet inside a session?)" : "")
                        + "; the client is out of step with the protocol - reconnect");
            }
            int frameBytes = frameBytes(in, start, maxMessageBytes);
            if (in.readableBytes() < frameBytes) {
                return;
            }
            out.add(new PgMessage(in.readRetainedSlice(frameBytes)));
        }
    }

    /**
     * The size of the whole frame (tag, length and payload) whose header starts at {@code start}, from its header
     * alone; the payload need not have arrived yet.
     *
     * @throws PgProtocolException for a length below 4 or above {@code maxMessageBytes}
     */
    static int frameBytes(ByteBuf in, int start, int maxMessageBytes) {
        int length = in.getInt(start + 1);
        if (length < 4) {
            throw new PgProtocolException("invalid message length " + length + " for message type '"
                    + printable((char) in.getUnsignedByte(start)) + "'");
        }
        if (length > maxMessageBytes) {
            throw new PgProtocolException("message of type '" + printable((char) in.getUnsignedByte(start)) + "' is "
                    + length + " bytes, over the limit of " + maxMessageBytes
                    + " bytes (ClientSettings.MaxMessageBytes)");
        }
        return length + 1;
    }

    static String printable(char tag) {
        return tag >= 0x20 && tag < 0x7f ? String.valueOf(tag) : String.format("\\x%02x", (int) tag);
    }
}
