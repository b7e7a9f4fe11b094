package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits a server's byte stream at message boundaries like {@link PgFrameDecoder}, but emits all the complete
 * messages of a read together, as one retained slice of the input (a run of whole frames), instead of one
 * {@link PgMessage} each. The backend's reader walks the run in place and forwards the messages the proxy need not
 * touch as slices of it, so a result set costs no object per row. A trailing partial message stays here until the
 * rest arrives. The same length checks as {@link PgFrameDecoder}'s: a length below 4 or above the cap is a protocol
 * violation ({@link PgProtocolException}), reported once, after the complete messages before it.
 */
public class PgFrameRunDecoder extends ByteToMessageDecoder {

    private final int maxMessageBytes;
    private boolean broken;

    public PgFrameRunDecoder(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (broken) {
            in.skipBytes(in.readableBytes());
            return;
        }
        int start = in.readerIndex();
        int limit = in.writerIndex();
        int end = start;
        try {
            while (limit - end >= PgMessage.HEADER_LENGTH) {
                int frameBytes = PgFrameDecoder.frameBytes(in, end, maxMessageBytes);
                if (limit - end < frameBytes) {
                    break;
                }
                end += frameBytes;
            }
        } catch (PgProtocolException e) {
            broken = true;
            emit(in, end - start, out); // the messages before the bad one are the server's too
            in.skipBytes(in.readableBytes());
            throw e;
        }
        emit(in, end - start, out);
    }

    private static void emit(ByteBuf in, int completeBytes, List<Object> out) {
        if (completeBytes > 0) {
            out.add(in.readRetainedSlice(completeBytes));
        }
    }

    /** The size of the whole frame that starts at {@code start} of a run (its header is known to be valid). */
    public static int frameBytes(ByteBuf run, int start) {
        return run.getInt(start + 1) + 1;
    }
}
