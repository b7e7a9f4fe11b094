package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** Messages the proxy itself sends to a client, playing the server's part. */
public final class ServerMessages {

    private static final ByteBuf AUTH_OK = constant('R', 0);
    private static final ByteBuf AUTH_CLEARTEXT = constant('R', 3);
    private static final ByteBuf SSL_REFUSED = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'N'}).asReadOnly());
    private static final ByteBuf SSL_ACCEPTED = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'S'}).asReadOnly());

    private ServerMessages() {
    }

    public static ByteBuf authenticationOk() {
        return AUTH_OK.duplicate();
    }

    public static ByteBuf authenticationCleartextPassword() {
        return AUTH_CLEARTEXT.duplicate();
    }

    /** The single byte 'N' that refuses an SSLRequest or GSSENCRequest. */
    /** AuthenticationSASL: the mechanisms offered, preferred first. */
    public static ByteBuf authenticationSasl(ByteBufAllocator alloc, java.util.List<String> mechanisms) {
        ByteBuf buf = begin(alloc, 'R');
        buf.writeInt(10);
        mechanisms.forEach(m -> writeCString(buf, m));
        buf.writeByte(0);
        return finish(buf);
    }

    /** AuthenticationSASLContinue (11) or AuthenticationSASLFinal (12) with the server's SCRAM message. */
    public static ByteBuf authenticationSaslData(ByteBufAllocator alloc, int code, String data) {
        ByteBuf buf = begin(alloc, 'R');
        buf.writeInt(code);
        buf.writeBytes(data.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return finish(buf);
    }

    public static ByteBuf encryptionRefused() {
        return SSL_REFUSED.duplicate();
    }

    /** The single byte 'S' that accepts an SSLRequest: the TLS handshake follows. */
    public static ByteBuf encryptionAccepted() {
        return SSL_ACCEPTED.duplicate();
    }

    public static ByteBuf parameterStatus(ByteBufAllocator alloc, String name, String value) {
        ByteBuf buf = begin(alloc, 'S');
        writeCString(buf, name);
        writeCString(buf, value);
        return finish(buf);
    }

    public static ByteBuf backendKeyData(ByteBufAllocator alloc, int processId, int secretKey) {
        ByteBuf buf = begin(alloc, 'K');
        buf.writeInt(processId).writeInt(secretKey);
        return finish(buf);
    }

    public static ByteBuf readyForQuery(ByteBufAllocator alloc, char status) {
        ByteBuf buf = begin(alloc, 'Z');
        buf.writeByte(status);
        return finish(buf);
    }

    /** NegotiateProtocolVersion: the newest minor version supported, and the {@code _pq_.} options not recognised. */
    public static ByteBuf negotiateProtocolVersion(ByteBufAllocator alloc, int newestMinor, List<String> unrecognised) {
        ByteBuf buf = begin(alloc, 'v');
        buf.writeInt((3 << 16) | newestMinor);
        buf.writeInt(unrecognised.size());
        unrecognised.forEach(option -> writeCString(buf, option));
        return finish(buf);
    }

    public static ByteBuf errorResponse(ByteBufAllocator alloc, String severity, String sqlState, String message) {
        return fields(alloc, 'E', severity, sqlState, message);
    }

    public static ByteBuf errorResponse(ByteBufAllocator alloc, PgException error) {
        return errorResponse(alloc, error.fatal() ? "FATAL" : "ERROR", error.sqlState(), error.getMessage());
    }

    public static ByteBuf noticeResponse(ByteBufAllocator alloc, String sqlState, String message) {
        return fields(alloc, 'N', "NOTICE", sqlState, message);
    }

    private static ByteBuf fields(ByteBufAllocator alloc, char tag, String severity, String sqlState, String message) {
        ByteBuf buf = begin(alloc, tag);
        buf.writeByte('S');
        writeCString(buf, severity);
        buf.writeByte('V');
        writeCString(buf, severity);
        buf.writeByte('C');
        writeCString(buf, sqlState);
        buf.writeByte('M');
        writeCString(buf, message);
        buf.writeByte(0);
        return finish(buf);
    }

    static ByteBuf begin(ByteBufAllocator alloc, char tag) {
        ByteBuf buf = alloc.buffer();
        buf.writeByte(tag);
        buf.writeInt(0); // length, filled in by finish
        return buf;
    }

    static ByteBuf finish(ByteBuf buf) {
        buf.setInt(1, buf.writerIndex() - 1);
        return buf;
    }

    static void writeCString(ByteBuf buf, String value) {
        buf.writeCharSequence(value, StandardCharsets.UTF_8);
        buf.writeByte(0);
    }

    private static ByteBuf constant(char tag, int authCode) {
        ByteBuf buf = Unpooled.buffer(9);
        buf.writeByte(tag).writeInt(8).writeInt(authCode);
        return Unpooled.unreleasableBuffer(buf.asReadOnly());
    }
}
