package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes what a client sends: first the untagged startup family, then tagged messages.
 *
 * <pre>
 * STARTUP:  Int32 length | Int32 code | body     code = 1234.5679 SSLRequest, 1234.5680 GSSENCRequest,
 *                                                       1234.5678 CancelRequest, else major<<16|minor StartupMessage
 * MESSAGES: Byte1 tag | Int32 length | payload   (see {@link PgFrameDecoder})
 * </pre>
 *
 * SSLRequest and GSSENCRequest keep the decoder in STARTUP (the client sends a StartupMessage next, possibly through
 * TLS); bytes that arrive together with one of them are a protocol violation. A StartupMessage switches it to
 * MESSAGES, where a tag no client may send is refused from the header alone, as PostgreSQL does (it does not wait for
 * the length it announces). A startup packet is capped at {@value #MAX_STARTUP_PACKET_BYTES} bytes, as in PostgreSQL.
 */
public class ClientFrameDecoder extends ByteToMessageDecoder {

    public static final int MAX_STARTUP_PACKET_BYTES = 10_000;

    static final int SSL_REQUEST_CODE = 80877103;
    static final int GSSENC_REQUEST_CODE = 80877104;
    static final int CANCEL_REQUEST_CODE = 80877102;
    /** 1234.5699: a CancelRequest forwarded by a peer replica (this proxy's own code; never forwarded again). */
    static final int PEER_CANCEL_REQUEST_CODE = 80877123;

    private enum State {
        /** Waiting for an untagged startup-family packet. */
        STARTUP,
        /** Logged-in traffic: tagged messages. */
        MESSAGES,
        /** A CancelRequest was read, or the client broke the protocol: nothing more is read on this connection. */
        DONE
    }

    private final int maxMessageBytes;
    private State state = State.STARTUP;

    public ClientFrameDecoder(int maxMessageBytes) {
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        try {
            switch (state) {
                case STARTUP -> decodeStartup(in, out);
                case MESSAGES -> PgFrameDecoder.decodeTagged(in, out, maxMessageBytes, true);
                case DONE -> in.skipBytes(in.readableBytes());
            }
        } catch (PgProtocolException e) {
            // Report the violation once: the bad bytes must not raise it again on the next read or at close.
            state = State.DONE;
            in.skipBytes(in.readableBytes());
            throw e;
        }
    }

    private void decodeStartup(ByteBuf in, List<Object> out) {
        if (in.readableBytes() < 4) {
            return;
        }
        int start = in.readerIndex();
        int length = in.getInt(start); // checked before the rest arrives, so a bad length is not waited on
        if (length < 8 || length > MAX_STARTUP_PACKET_BYTES) {
            throw new PgProtocolException("invalid length of startup packet: " + length + " bytes (allowed 8 to "
                    + MAX_STARTUP_PACKET_BYTES + ")");
        }
        if (in.readableBytes() < length) {
            return;
        }
        int code = in.getInt(start + 4);
        ByteBuf body = in.slice(start + 8, length - 8);
        in.skipBytes(length);
        if ((code == SSL_REQUEST_CODE || code == GSSENC_REQUEST_CODE) && in.isReadable()) {
            // The client must wait for the one-byte answer. Bytes already here were sent in plaintext before any
            // handshake and may have been injected by a man in the middle (CVE-2021-23214): PostgreSQL closes too.
            throw new PgProtocolException("received unencrypted data after "
                    + (code == SSL_REQUEST_CODE ? "SSL request" : "GSSAPI encryption request")
                    + "; this is either a client bug or an attempted man-in-the-middle attack");
        }
        switch (code) {
            case SSL_REQUEST_CODE -> out.add(new StartupPacket.SslRequest());
            case GSSENC_REQUEST_CODE -> out.add(new StartupPacket.GssEncRequest());
            case CANCEL_REQUEST_CODE, PEER_CANCEL_REQUEST_CODE -> {
                if (length != 16) {
                    throw new PgProtocolException("invalid length of cancel request: " + length + " bytes");
                }
                state = State.DONE;
                out.add(new StartupPacket.Cancel(body.getInt(body.readerIndex()), body.getInt(body.readerIndex() + 4),
                        code == PEER_CANCEL_REQUEST_CODE));
            }
            default -> {
                state = State.MESSAGES;
                out.add(new StartupPacket.Startup(code >>> 16, code & 0xffff, readParameters(body)));
                // Messages pipelined behind the StartupMessage (rare) are decoded in the next call.
            }
        }
    }

    /** Reads NUL-terminated name/value pairs up to the final NUL. */
    private static Map<String, String> readParameters(ByteBuf body) {
        Map<String, String> parameters = new LinkedHashMap<>();
        while (body.isReadable()) {
            String name = readCString(body);
            if (name.isEmpty()) {
                if (body.isReadable()) {
                    break; // bytes after the terminator
                }
                return parameters;
            }
            if (!body.isReadable()) {
                break;
            }
            parameters.put(name, readCString(body));
        }
        throw new PgProtocolException("invalid startup packet layout: expected terminator as last byte");
    }

    private static String readCString(ByteBuf buf) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new PgProtocolException("invalid startup packet layout: unterminated string");
        }
        String value = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return value;
    }
}
