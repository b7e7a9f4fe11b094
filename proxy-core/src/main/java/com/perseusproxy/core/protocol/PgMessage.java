package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One tagged protocol message, held as the whole frame ({@code tag, int32 length, payload}) exactly as it arrived, so
 * the proxy can forward it with a single write and no copy. Parse helpers read in place.
 */
public final class PgMessage extends DefaultByteBufHolder {

    /** Bytes before the payload: the tag and the int32 length. */
    public static final int HEADER_LENGTH = 5;

    private final char tag;

    public PgMessage(ByteBuf frame) {
        super(frame);
        this.tag = (char) frame.getUnsignedByte(frame.readerIndex());
    }

    public char tag() {
        return tag;
    }

    /** The whole frame, ready to write to the other side (the caller's reference is handed over with it). */
    public ByteBuf frame() {
        return content();
    }

    /** Index of the first payload byte within {@link #frame()}. */
    public int payloadIndex() {
        return content().readerIndex() + HEADER_LENGTH;
    }

    public int payloadLength() {
        return content().readableBytes() - HEADER_LENGTH;
    }

    /** A view of the payload that shares this message's memory (not retained). */
    public ByteBuf payload() {
        return content().slice(payloadIndex(), payloadLength());
    }

    /** The status byte of a ReadyForQuery: 'I' idle, 'T' in a transaction, 'E' in a failed transaction. */
    public char readyStatus() {
        return (char) content().getByte(payloadIndex());
    }

    @Override
    public String toString() {
        return "PgMessage[" + tag + ", " + payloadLength() + " bytes]";
    }
}
