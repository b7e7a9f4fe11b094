package com.perseusproxy.core.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Hand-written PostgreSQL wire bytes for tests, built field by field as the protocol documentation lays them out
 * (independent of the main code's encoders).
 */
final class Wire {

    static final int PROTOCOL_3_0 = 0x0003_0000;
    static final int SSL_REQUEST_CODE = 80877103;
    static final int GSSENC_REQUEST_CODE = 80877104;
    static final int CANCEL_REQUEST_CODE = 80877102;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    private Wire() {
    }

    static Wire bytes() {
        return new Wire();
    }

    /** One byte (a tag, a status, a field code). */
    Wire byte1(int value) {
        out.write(value);
        return this;
    }

    /** A big-endian Int32. */
    Wire int32(int value) {
        out.write(value >>> 24);
        out.write(value >>> 16);
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    Wire int16(int value) {
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    /** A NUL-terminated UTF-8 string. */
    Wire cstring(String value) {
        return raw(value).byte1(0);
    }

    /** UTF-8 bytes with no terminator. */
    Wire raw(String value) {
        return raw(value.getBytes(StandardCharsets.UTF_8));
    }

    Wire raw(byte[] value) {
        out.writeBytes(value);
        return this;
    }

    byte[] toArray() {
        return out.toByteArray();
    }

    // ---- whole messages --------------------------------------------------------------------------------------

    /** {@code Byte1 tag | Int32 length (4 + payload) | payload}. */
    static byte[] tagged(char tag, byte[] payload) {
        return bytes().byte1(tag).int32(4 + payload.length).raw(payload).toArray();
    }

    static byte[] tagged(char tag, Wire payload) {
        return tagged(tag, payload.toArray());
    }

    /** StartupMessage for protocol 3.0 with the parameters in iteration order. */
    static byte[] startup(Map<String, String> parameters) {
        Wire body = bytes().int32(PROTOCOL_3_0);
        parameters.forEach((name, value) -> body.cstring(name).cstring(value));
        body.byte1(0);
        return untagged(body.toArray());
    }

    static byte[] sslRequest() {
        return bytes().int32(8).int32(SSL_REQUEST_CODE).toArray();
    }

    static byte[] gssEncRequest() {
        return bytes().int32(8).int32(GSSENC_REQUEST_CODE).toArray();
    }

    static byte[] cancelRequest(int processId, int secretKey) {
        return bytes().int32(16).int32(CANCEL_REQUEST_CODE).int32(processId).int32(secretKey).toArray();
    }

    /** {@code Int32 length (4 + body) | body}: the startup-family framing. */
    static byte[] untagged(byte[] body) {
        return bytes().int32(4 + body.length).raw(body).toArray();
    }

    static byte[] concat(byte[]... parts) {
        Wire all = bytes();
        for (byte[] part : parts) {
            all.raw(part);
        }
        return all.toArray();
    }

    /** A recognisable, non-repeating-looking payload of the given size. */
    static byte[] pattern(int size) {
        byte[] data = new byte[size];
        for (int i = 0; i < size; i++) {
            data[i] = (byte) (i * 31 % 251);
        }
        return data;
    }
}
