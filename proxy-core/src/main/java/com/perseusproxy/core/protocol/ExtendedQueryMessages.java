package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Reading and re-writing the extended-query messages that name a prepared statement (Parse, Bind, Describe, Close),
 * so the proxy can give a client's statement the name it has on the backend, and the two replies the proxy makes up
 * (ParseComplete, CloseComplete).
 */
public final class ExtendedQueryMessages {

    /** Describe and Close target a prepared statement with this kind byte ('P' targets a portal). */
    public static final char STATEMENT = 'S';
    /** Bind parameters up to this size are copied when the Bind is renamed; larger ones are shared. */
    static final int COPY_LIMIT = 1024;

    private static final ByteBuf PARSE_COMPLETE = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'1', 0, 0, 0, 4}).asReadOnly());
    private static final ByteBuf CLOSE_COMPLETE = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'3', 0, 0, 0, 4}).asReadOnly());

    private ExtendedQueryMessages() {
    }

    /** A Parse: the statement name, and the rest of the body (query text, parameter types) as raw bytes. */
    public record Parse(String name, byte[] definition) {
    }

    /** A Bind: the portal, the statement, and where the rest (parameters, formats) starts within the frame. */
    public record Bind(String portal, String statement, int restIndex) {
    }

    /** A Describe or Close: 'S' (statement) or 'P' (portal), and the name. */
    public record Target(char kind, String name) {
        public boolean isNamedStatement() {
            return kind == STATEMENT && !name.isEmpty();
        }
    }

    // ---- which statement a message names, on the frame's bytes (no slice, no String): every extended-query
    // message of the data path is asked this, and nearly always the answer is "the unnamed one". A malformed
    // message answers false to all three, so the caller forwards it untouched and PostgreSQL judges it.

    /** Whether a Parse defines the unnamed statement (its name is the empty string). */
    public static boolean parsesUnnamed(PgMessage parse) {
        return parse.payloadLength() > 0 && parse.frame().getByte(parse.payloadIndex()) == 0;
    }

    /** Whether a Bind binds the unnamed statement (the name after its portal's is the empty string). */
    public static boolean bindsUnnamed(PgMessage bind) {
        ByteBuf frame = bind.frame();
        int start = bind.payloadIndex();
        int end = start + bind.payloadLength();
        int portalEnd = frame.indexOf(start, end, (byte) 0);
        return portalEnd >= 0 && portalEnd + 1 < end && frame.getByte(portalEnd + 1) == 0;
    }

    /** Whether a Describe or Close targets a statement ('S') that is the unnamed one ({@code unnamed}) or not. */
    public static boolean targetsStatement(PgMessage describeOrClose, boolean unnamed) {
        if (describeOrClose.payloadLength() < 2) {
            return false;
        }
        ByteBuf frame = describeOrClose.frame();
        int at = describeOrClose.payloadIndex();
        return frame.getByte(at) == STATEMENT && (frame.getByte(at + 1) == 0) == unnamed;
    }

    public static Parse readParse(PgMessage message) {
        ByteBuf body = message.payload();
        String name = MessageReader.readCString(body);
        byte[] definition = new byte[body.readableBytes()];
        body.readBytes(definition);
        return new Parse(name, definition);
    }

    /** The statement name of a Parse, without copying its definition. */
    public static String parseName(PgMessage message) {
        return MessageReader.readCString(message.payload());
    }

    public static Bind readBind(PgMessage message) {
        ByteBuf body = message.payload();
        String portal = MessageReader.readCString(body);
        String statement = MessageReader.readCString(body);
        return new Bind(portal, statement, message.payloadIndex() + body.readerIndex());
    }

    /** Reads a Describe or a Close. */
    public static Target readTarget(PgMessage message) {
        ByteBuf body = message.payload();
        if (!body.isReadable()) {
            throw new PgProtocolException("message '" + message.tag() + "' has no target type");
        }
        char kind = (char) body.readByte();
        return new Target(kind, MessageReader.readCString(body));
    }

    /** Parse of {@code definition} (query text and parameter types, as read by {@link #readParse}) under {@code name}. */
    public static ByteBuf parse(ByteBufAllocator alloc, String name, byte[] definition) {
        ByteBuf buf = ServerMessages.begin(alloc, FrontendTag.PARSE);
        ServerMessages.writeCString(buf, name);
        buf.writeBytes(definition);
        return ServerMessages.finish(buf);
    }

    /**
     * The client's Bind with its statement renamed; the caller still releases {@code original}. Parameters above
     * {@link #COPY_LIMIT} bytes are not copied but shared with {@code original} (retained): a large bytea is not worth
     * copying to change a name; small ones are, since one flat buffer is cheaper to write than a composite.
     */
    public static ByteBuf renameBind(ByteBufAllocator alloc, PgMessage original, Bind bind, String statement) {
        ByteBuf frame = original.frame();
        int restLength = frame.writerIndex() - bind.restIndex();
        ByteBuf head = ServerMessages.begin(alloc, FrontendTag.BIND);
        ServerMessages.writeCString(head, bind.portal());
        ServerMessages.writeCString(head, statement);
        head.setInt(1, head.writerIndex() - 1 + restLength);
        if (restLength <= COPY_LIMIT) {
            return head.writeBytes(frame, bind.restIndex(), restLength);
        }
        CompositeByteBuf renamed = alloc.compositeBuffer(2);
        renamed.addComponents(true, head, frame.retainedSlice(bind.restIndex(), restLength));
        return renamed;
    }

    public static ByteBuf describeStatement(ByteBufAllocator alloc, String name) {
        return target(alloc, FrontendTag.DESCRIBE, name);
    }

    public static ByteBuf closeStatement(ByteBufAllocator alloc, String name) {
        return target(alloc, FrontendTag.CLOSE, name);
    }

    public static ByteBuf parseComplete() {
        return PARSE_COMPLETE.duplicate();
    }

    public static ByteBuf closeComplete() {
        return CLOSE_COMPLETE.duplicate();
    }

    private static ByteBuf target(ByteBufAllocator alloc, char tag, String name) {
        ByteBuf buf = ServerMessages.begin(alloc, tag);
        buf.writeByte(STATEMENT);
        ServerMessages.writeCString(buf, name);
        return ServerMessages.finish(buf);
    }
}
