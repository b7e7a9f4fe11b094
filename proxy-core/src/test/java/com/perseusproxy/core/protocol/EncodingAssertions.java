package com.perseusproxy.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.util.HexFormat;

final class EncodingAssertions {

    private EncodingAssertions() {
    }

    /** Asserts the readable bytes of {@code actual} (left unread) equal {@code expected}, then releases it. */
    static void assertEncodes(byte[] expected, ByteBuf actual) {
        try {
            HexFormat hex = HexFormat.of();
            assertEquals(hex.formatHex(expected), hex.formatHex(ByteBufUtil.getBytes(actual)));
        } finally {
            actual.release();
        }
    }
}
