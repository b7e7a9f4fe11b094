package com.perseusproxy.core.protocol;

import static com.perseusproxy.core.protocol.EncodingAssertions.assertEncodes;
import static com.perseusproxy.core.protocol.Wire.bytes;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Encodings checked against the layouts in the PostgreSQL "Message Formats" documentation. */
class ClientMessagesTest {

    private final TrackingAllocator alloc = new TrackingAllocator();

    @AfterEach
    void everyBufferReleased() {
        alloc.assertAllReleased();
    }

    @Test
    void startupMessageHasLengthVersionPairsAndTerminator() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "bob");
        parameters.put("database", "appdb");
        byte[] body = bytes()
                .int32(0x0003_0000)
                .cstring("user").cstring("bob")
                .cstring("database").cstring("appdb")
                .byte1(0).toArray();
        assertEncodes(bytes().int32(4 + body.length).raw(body).toArray(), ClientMessages.startup(alloc, parameters));
    }

    @Test
    void startupMessageWithoutParameters() {
        assertEncodes(new byte[] {0, 0, 0, 9, 0, 3, 0, 0, 0}, ClientMessages.startup(alloc, Map.of()));
    }

    @Test
    void cancelRequestIsSixteenBytesWithCode80877102() {
        assertEncodes(new byte[] {
            0, 0, 0, 16,
            0x04, (byte) 0xd2, 0x16, 0x2e, // 80877102 = 1234 << 16 | 5678
            0x00, 0x00, 0x30, 0x39, // process id 12345
            (byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef},
                ClientMessages.cancelRequest(alloc, 12345, 0xdeadbeef));
    }

    @Test
    void query() {
        assertEncodes(bytes().byte1('Q').int32(4 + 9).cstring("SELECT 1").toArray(),
                ClientMessages.query(alloc, "SELECT 1"));
    }

    @Test
    void queryIsUtf8() {
        String sql = "SELECT 'é'";
        int length = 4 + sql.getBytes(StandardCharsets.UTF_8).length + 1;
        assertEncodes(bytes().byte1('Q').int32(length).cstring(sql).toArray(), ClientMessages.query(alloc, sql));
    }

    @Test
    void terminate() {
        assertEncodes(new byte[] {'X', 0, 0, 0, 4}, ClientMessages.terminate());
    }

    @Test
    void sync() {
        assertEncodes(new byte[] {'S', 0, 0, 0, 4}, ClientMessages.sync());
        assertEncodes(new byte[] {'S', 0, 0, 0, 4}, ClientMessages.sync()); // the constant is not used up
    }

    @Test
    void passwordMessage() {
        assertEncodes(bytes().byte1('p').int32(4 + 7).cstring("secret").toArray(),
                ClientMessages.password(alloc, "secret"));
    }

    @Test
    void saslInitialResponseHasMechanismAndLengthPrefixedData() {
        byte[] data = "n,,n=,r=abc".getBytes(StandardCharsets.US_ASCII);
        byte[] payload = bytes().cstring("SCRAM-SHA-256").int32(data.length).raw(data).toArray();
        assertEncodes(bytes().byte1('p').int32(4 + payload.length).raw(payload).toArray(),
                ClientMessages.saslInitialResponse(alloc, "SCRAM-SHA-256", data));
    }

    @Test
    void saslResponseIsTheBareData() {
        byte[] data = "c=biws,r=abc,p=xyz".getBytes(StandardCharsets.US_ASCII);
        assertEncodes(bytes().byte1('p').int32(4 + data.length).raw(data).toArray(),
                ClientMessages.saslResponse(alloc, data));
    }

    @Test
    void copyFail() {
        assertEncodes(bytes().byte1('f').int32(4 + 8).cstring("aborted").toArray(),
                ClientMessages.copyFail(alloc, "aborted"));
    }
}
