package com.perseusproxy.core.backend;

import io.netty.buffer.ByteBuf;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * PostgreSQL wire messages for the lease tests, written field by field from the protocol documentation (not with the
 * main code's encoders, so that a bug there cannot hide itself), and a reader that splits a byte stream into them.
 */
final class PgWire {

    private PgWire() {
    }

    /** One decoded message: its type byte and its payload (after the length). */
    record Message(char tag, byte[] payload) {

        /** The payload as text without its trailing NUL: a Query's SQL, a CommandComplete's tag. */
        String text() {
            int end = payload.length > 0 && payload[payload.length - 1] == 0 ? payload.length - 1 : payload.length;
            return new String(payload, 0, end, StandardCharsets.UTF_8);
        }

        /** An ErrorResponse's or NoticeResponse's field, such as 'C' (SQLSTATE) or 'M' (message). */
        String field(char code) {
            int i = 0;
            while (i < payload.length && payload[i] != 0) {
                int start = i + 1;
                int end = start;
                while (payload[end] != 0) {
                    end++;
                }
                if (payload[i] == code) {
                    return new String(payload, start, end - start, StandardCharsets.UTF_8);
                }
                i = end + 1;
            }
            return null;
        }

        @Override
        public String toString() {
            return tag + (tag == 'Q' || tag == 'C' ? "(" + text() + ")" : tag == 'E' ? "(" + field('C') + " "
                    + field('M') + ")" : "");
        }
    }

    /** Splits complete messages off the front of {@code buffer}; a partial one stays for the next call. */
    static List<Message> split(ByteBuf buffer) {
        List<Message> messages = new ArrayList<>();
        while (buffer.readableBytes() >= 5) {
            int length = buffer.getInt(buffer.readerIndex() + 1);
            if (buffer.readableBytes() < 1 + length) {
                break;
            }
            char tag = (char) buffer.readByte();
            buffer.skipBytes(4);
            byte[] payload = new byte[length - 4];
            buffer.readBytes(payload);
            messages.add(new Message(tag, payload));
        }
        return messages;
    }

    // ---- frontend (what a client sends) ---------------------------------------------------------------------

    static byte[] startup(Map<String, String> parameters) {
        Body body = new Body().int32(0x0003_0000);
        parameters.forEach((name, value) -> body.cstring(name).cstring(value));
        byte[] fields = body.cstring("").bytes();
        return new Body().int32(fields.length + 4).raw(fields).bytes();
    }

    static byte[] password(String password) {
        return message('p', new Body().cstring(password));
    }

    static byte[] query(String sql) {
        return message('Q', new Body().cstring(sql));
    }

    /** Parse of {@code statement} ("" is the unnamed one) with no parameter types. */
    static byte[] parse(String statement, String sql) {
        return message('P', new Body().cstring(statement).cstring(sql).byte1(0).byte1(0));
    }

    /** Bind of {@code statement} to the unnamed portal, with no parameters and text results. */
    static byte[] bind(String statement) {
        return message('B', new Body().cstring("").cstring(statement).byte1(0).byte1(0).byte1(0).byte1(0)
                .byte1(0).byte1(0));
    }

    static byte[] sync() {
        return message('S', new Body());
    }

    /** Execute of the unnamed portal, all rows. */
    static byte[] execute() {
        return message('E', new Body().cstring("").int32(0));
    }

    // ---- backend (what a server sends) ----------------------------------------------------------------------

    static byte[] parseComplete() {
        return message('1', new Body());
    }

    static byte[] closeComplete() {
        return message('3', new Body());
    }

    static byte[] bindComplete() {
        return message('2', new Body());
    }

    /** CopyInResponse: text format, no columns. */
    static byte[] copyInResponse() {
        return message('G', new Body().byte1(0).byte1(0).byte1(0));
    }

    static byte[] authenticationOk() {
        return message('R', new Body().int32(0));
    }

    static byte[] parameterStatus(String name, String value) {
        return message('S', new Body().cstring(name).cstring(value));
    }

    static byte[] backendKeyData(int processId, int secretKey) {
        return message('K', new Body().int32(processId).int32(secretKey));
    }

    static byte[] readyForQuery(char status) {
        return message('Z', new Body().byte1(status));
    }

    /** A DataRow of text values ("" is an empty value, not NULL). */
    static byte[] dataRow(String... values) {
        Body body = new Body().byte1(values.length >>> 8).byte1(values.length);
        for (String value : values) {
            byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
            body.int32(bytes.length).raw(bytes);
        }
        return message('D', body);
    }

    /** A RowDescription of text columns of type text (oid 25). */
    static byte[] rowDescription(String... columns) {
        Body body = new Body().byte1(columns.length >>> 8).byte1(columns.length);
        for (String column : columns) {
            body.cstring(column).int32(0).byte1(0).byte1(0).int32(25).byte1(0xff).byte1(0xff).int32(-1)
                    .byte1(0).byte1(0);
        }
        return message('T', body);
    }

    /** A NoticeResponse (WARNING): asynchronous, it may come between any two replies. */
    static byte[] notice(String text) {
        return message('N', new Body().byte1('S').cstring("WARNING").byte1('C').cstring("01000")
                .byte1('M').cstring(text).byte1(0));
    }

    static byte[] commandComplete(String tag) {
        return message('C', new Body().cstring(tag));
    }

    static byte[] error(String sqlState, String text) {
        return message('E', new Body().byte1('S').cstring("ERROR").byte1('C').cstring(sqlState)
                .byte1('M').cstring(text).byte1(0));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    private static byte[] message(char tag, Body body) {
        byte[] payload = body.bytes();
        return new Body().byte1(tag).int32(payload.length + 4).raw(payload).bytes();
    }

    private static final class Body {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Body byte1(int value) {
            out.write(value);
            return this;
        }

        Body int32(int value) {
            out.write(value >>> 24);
            out.write(value >>> 16);
            out.write(value >>> 8);
            out.write(value);
            return this;
        }

        Body cstring(String value) {
            out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
            out.write(0);
            return this;
        }

        Body raw(byte[] value) {
            out.writeBytes(value);
            return this;
        }

        byte[] bytes() {
            return out.toByteArray();
        }
    }
}
