package com.perseusproxy.core.protocol;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** In-place readers for the few message bodies the proxy must understand. */
public final class MessageReader {

    private MessageReader() {
    }

    /** Reads a NUL-terminated UTF-8 string starting at the buffer's reader index and moves past it. */
    public static String readCString(ByteBuf buf) {
        int end = buf.indexOf(buf.readerIndex(), buf.writerIndex(), (byte) 0);
        if (end < 0) {
            throw new PgProtocolException("unterminated string in message");
        }
        String value = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.UTF_8);
        buf.readerIndex(end + 1);
        return value;
    }

    /** ErrorResponse / NoticeResponse fields by their one-letter code (S, V, C, M, D, H, ...). */
    public static Map<Character, String> errorFields(PgMessage message) {
        ByteBuf body = message.payload();
        Map<Character, String> fields = new HashMap<>();
        while (body.isReadable()) {
            byte code = body.readByte();
            if (code == 0) {
                break;
            }
            fields.put((char) code, readCString(body));
        }
        return fields;
    }

    /** ParameterStatus as {name, value}. */
    public static String[] parameterStatus(PgMessage message) {
        ByteBuf body = message.payload();
        return new String[] {readCString(body), readCString(body)};
    }

    /** The command tag of a CommandComplete, e.g. "SELECT 1", "SET". */
    public static String commandTag(PgMessage message) {
        return readCString(message.payload());
    }

    /** The columns of a DataRow in text format (null for SQL NULL). */
    public static List<String> dataRowTexts(PgMessage message) {
        ByteBuf body = message.payload();
        int columns = body.readUnsignedShort();
        List<String> values = new ArrayList<>(columns);
        for (int i = 0; i < columns; i++) {
            int length = body.readInt();
            if (length < 0) {
                values.add(null);
            } else {
                values.add(body.toString(body.readerIndex(), length, StandardCharsets.UTF_8));
                body.skipBytes(length);
            }
        }
        return values;
    }

    /** The string of a PasswordMessage. */
    public static String password(PgMessage message) {
        return readCString(message.payload());
    }
}
