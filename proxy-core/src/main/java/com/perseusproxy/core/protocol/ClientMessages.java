package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.Map;

/** Messages the proxy sends to a backend server, playing the client's part. */
public final class ClientMessages {

    private static final ByteBuf TERMINATE = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'X', 0, 0, 0, 4}).asReadOnly());
    private static final ByteBuf SYNC = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'S', 0, 0, 0, 4}).asReadOnly());

    private ClientMessages() {
    }

    /** StartupMessage for protocol 3.0. */
    public static ByteBuf startup(ByteBufAllocator alloc, Map<String, String> parameters) {
        ByteBuf buf = alloc.buffer();
        buf.writeInt(0);
        buf.writeInt(3 << 16);
        parameters.forEach((name, value) -> {
            ServerMessages.writeCString(buf, name);
            ServerMessages.writeCString(buf, value);
        });
        buf.writeByte(0);
        buf.setInt(0, buf.writerIndex());
        return buf;
    }

    /** SSLRequest: asks the server for TLS before the StartupMessage; it answers with one byte, 'S' or 'N'. */
    public static ByteBuf sslRequest(ByteBufAllocator alloc) {
        return alloc.buffer(8).writeInt(8).writeInt(ClientFrameDecoder.SSL_REQUEST_CODE);
    }

    public static ByteBuf cancelRequest(ByteBufAllocator alloc, int processId, int secretKey) {
        return alloc.buffer(16).writeInt(16).writeInt(ClientFrameDecoder.CANCEL_REQUEST_CODE)
                .writeInt(processId).writeInt(secretKey);
    }

    /** A CancelRequest one replica forwards to the replica owning the key (see PeerCancelForwarder). */
    public static ByteBuf peerCancelRequest(ByteBufAllocator alloc, int processId, int secretKey) {
        return alloc.buffer(16).writeInt(16).writeInt(ClientFrameDecoder.PEER_CANCEL_REQUEST_CODE)
                .writeInt(processId).writeInt(secretKey);
    }

    /** A simple Query. */
    public static ByteBuf query(ByteBufAllocator alloc, String sql) {
        ByteBuf buf = ServerMessages.begin(alloc, 'Q');
        ServerMessages.writeCString(buf, sql);
        return ServerMessages.finish(buf);
    }

    /** PasswordMessage carrying a cleartext or md5 password. */
    public static ByteBuf password(ByteBufAllocator alloc, String password) {
        ByteBuf buf = ServerMessages.begin(alloc, 'p');
        ServerMessages.writeCString(buf, password);
        return ServerMessages.finish(buf);
    }

    public static ByteBuf saslInitialResponse(ByteBufAllocator alloc, String mechanism, byte[] data) {
        ByteBuf buf = ServerMessages.begin(alloc, 'p');
        ServerMessages.writeCString(buf, mechanism);
        buf.writeInt(data.length).writeBytes(data);
        return ServerMessages.finish(buf);
    }

    public static ByteBuf saslResponse(ByteBufAllocator alloc, byte[] data) {
        ByteBuf buf = ServerMessages.begin(alloc, 'p');
        buf.writeBytes(data);
        return ServerMessages.finish(buf);
    }

    public static ByteBuf copyFail(ByteBufAllocator alloc, String reason) {
        ByteBuf buf = ServerMessages.begin(alloc, 'f');
        ServerMessages.writeCString(buf, reason);
        return ServerMessages.finish(buf);
    }

    public static ByteBuf sync() {
        return SYNC.duplicate();
    }

    public static ByteBuf terminate() {
        return TERMINATE.duplicate();
    }
}
