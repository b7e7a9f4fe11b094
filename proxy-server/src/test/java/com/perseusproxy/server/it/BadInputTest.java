package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.it.PgWire.Message;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Malformed input over raw sockets. Each bad connection must end in an ErrorResponse or a close, promptly (the raw
 * client gives up after 10 seconds, so a server that waits for a gigabyte that never comes fails), while a
 * well-behaved client keeps working throughout and new connections are still accepted.
 */
class BadInputTest {

    private static Bystander bystander;
    private Target target;

    @BeforeAll
    static void startBystander() {
        bystander = new Bystander(Targets.forTenant(Fixtures.TENANT_B));
    }

    @AfterAll
    static void stopBystander() throws InterruptedException {
        bystander.close();
    }

    @BeforeEach
    void target() {
        target = Targets.forTenant(Fixtures.TENANT_A);
    }

    @AfterEach
    void othersAreUnharmed() throws SQLException {
        bystander.assertStillHealthy();
        try (Connection c = target.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_schema()")) {
            rs.next();
            assertEquals(Fixtures.TENANT_A.schema(), rs.getString(1), "a new connection works");
        }
    }

    // ---- before login

    @Test
    void garbageInsteadOfAStartupPacket() {
        try (PgWire wire = PgWire.open(target)) {
            wire.send("GET / HTTP/1.1\r\nHost: perseus\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertErrorOrClose(wire.awaitErrorOrClose());
        }
    }

    @Test
    void startupLengthBelowFour() {
        try (PgWire wire = PgWire.open(target)) {
            wire.send(new byte[] {0, 0, 0, 2, 0, 3, 0, 0});
            assertErrorOrClose(wire.awaitErrorOrClose());
        }
    }

    @Test
    void startupLengthFarOverTheCap() {
        // Claims 2 GB and sends almost nothing: the server must refuse at once, not wait for (or allocate) the rest.
        try (PgWire wire = PgWire.open(target)) {
            wire.send(ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE).putInt(PgWire.PROTOCOL_3_0).array());
            assertErrorOrClose(wire.awaitErrorOrClose());
        }
    }

    @Test
    void oversizeButWellFormedStartupPacket() {
        // PostgreSQL caps startup packets at 10,000 bytes.
        Map<String, String> params = PgWire.startupParameters(target);
        params.put("application_name", "x".repeat(20_000));
        try (PgWire wire = PgWire.open(target)) {
            wire.send(PgWire.startupPacket(PgWire.PROTOCOL_3_0, params));
            assertErrorOrClose(wire.awaitErrorOrClose());
        }
    }

    @Test
    void truncatedStartupPacketThenHangUp() {
        try (PgWire wire = PgWire.open(target)) {
            wire.send(new byte[] {0, 0, 0, 40, 0, 3});
        }
    }

    @Test
    void unknownProtocolVersion9dot9() {
        try (PgWire wire = PgWire.open(target)) {
            wire.send(PgWire.startupPacket((9 << 16) | 9, PgWire.startupParameters(target)));
            Message error = wire.awaitErrorOrClose();
            assertNotNull(error, "an unsupported major version gets an ErrorResponse saying so");
            assertTrue(Set.of("0A000", "08P01").contains(error.sqlState()), error.toString());
        }
    }

    @Test
    void newerMinorVersionAndUnknownOptionsAreNegotiated() {
        // What libpq 18 does when asked for protocol 3.2: the server answers NegotiateProtocolVersion ('v') with the
        // newest version it supports and the options it does not know, then carries on with 3.0.
        Map<String, String> params = PgWire.startupParameters(target);
        params.put("_pq_.perseus_test_option", "on");
        try (PgWire wire = PgWire.open(target)) {
            PgWire.Login login = wire.login(target, (3 << 16) | 9, params);
            Message negotiate = login.negotiateProtocolVersion();
            assertNotNull(negotiate, "NegotiateProtocolVersion");
            int offered = negotiate.int32(0); // the full version number, e.g. 3.0 = 0x00030000
            assertEquals(3, offered >>> 16, "major version");
            assertTrue((offered & 0xffff) < 9, "a minor version below the requested 3.9: " + (offered & 0xffff));
            assertEquals(1, negotiate.int32(4), "one unrecognised option");
            String option = new String(negotiate.body(), 8, negotiate.body().length - 9, StandardCharsets.UTF_8);
            assertEquals("_pq_.perseus_test_option", option);
            assertEquals(List.of(Fixtures.TENANT_A.schema()), wire.queryColumn("select current_schema()"));
            wire.terminate();
        }
    }

    @Test
    void sslAndGssEncryptionRequestsAreAnsweredThenPlainLoginWorks() {
        for (int request : new int[] {PgWire.SSL_REQUEST_CODE, PgWire.GSSENC_REQUEST_CODE}) {
            try (PgWire wire = PgWire.open(target)) {
                wire.send(ByteBuffer.allocate(8).putInt(8).putInt(request).array());
                int answer = wire.readByte();
                if (answer == 'S' || answer == 'G') {
                    continue; // encryption offered: the TLS tests cover that path
                }
                assertEquals('N', answer, "refused encryption (request " + request + ")");
                wire.login(target);
                assertEquals(List.of("1"), wire.queryColumn("select 1"));
                wire.terminate();
            }
        }
    }

    @Test
    void manyGarbageConnectionsAtOnce() {
        List<PgWire> wires = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                PgWire wire = PgWire.open(target);
                wires.add(wire);
                wire.send(("\u0016\u0003\u0001 not a postgres client #" + i).getBytes(StandardCharsets.ISO_8859_1));
            }
            for (PgWire wire : wires) {
                assertErrorOrClose(wire.awaitErrorOrClose());
            }
        } finally {
            wires.forEach(PgWire::close);
        }
    }

    // ---- after login

    @Test
    void messageLengthBelowFourAfterLogin() {
        try (PgWire wire = loggedIn()) {
            wire.send(new byte[] {'Q', 0, 0, 0, 2});
            assertErrorOrClose(wire.awaitErrorOrClose());
            assertTrue(wire.closedByServer(), "the connection is closed after a framing error");
        }
    }

    @Test
    void messageLengthFarOverTheCapAfterLogin() {
        try (PgWire wire = loggedIn()) {
            wire.send(ByteBuffer.allocate(9).put((byte) 'Q').putInt(Integer.MAX_VALUE).put("sel".getBytes(
                    StandardCharsets.US_ASCII)).array());
            assertErrorOrClose(wire.awaitErrorOrClose());
            assertTrue(wire.closedByServer(), "the connection is closed after a framing error");
        }
    }

    @Test
    void unknownMessageTypeAfterLogin() {
        try (PgWire wire = loggedIn()) {
            wire.send(PgWire.message('z', new byte[] {1, 2, 3}));
            assertErrorOrClose(wire.awaitErrorOrClose());
        }
    }

    @Test
    void secondStartupPacketMidSessionIsRefusedAtOnceWith08P01() {
        // Reads as message type 0x00 with a length of megabytes; PostgreSQL answers 08P01 at once instead of waiting.
        for (boolean inTransaction : new boolean[] {false, true}) {
            try (PgWire wire = loggedIn()) {
                if (inTransaction) {
                    assertEquals("T", PgWire.transactionStates(wire.simpleQuery("begin")));
                }
                long started = System.nanoTime();
                wire.send(PgWire.startupPacket(PgWire.PROTOCOL_3_0, PgWire.startupParameters(target)));
                Message error = wire.awaitErrorOrClose();
                long millis = (System.nanoTime() - started) / 1_000_000;
                assertNotNull(error, "an ErrorResponse, not a silent close");
                assertEquals("08P01", error.sqlState(), error.toString());
                assertTrue(millis < 3000, "answered at once, not after a read timeout: " + millis + " ms");
                if (Targets.viaProxy()) {
                    String message = error.fields().get('M');
                    assertTrue(message.startsWith("invalid frontend message type 0"), message);
                    assertTrue(message.contains("second startup packet"), message);
                }
                assertTrue(wire.closedByServer(), "only this client is closed, and it is");
            }
        }
    }

    @Test
    void passwordMessageAfterLoginIsAProtocolViolation() {
        try (PgWire wire = loggedIn()) {
            wire.send(PgWire.message('p', PgWire.cstring("again")));
            Message error = wire.awaitErrorOrClose();
            assertNotNull(error, "an ErrorResponse, not a silent close");
            assertEquals("08P01", error.sqlState(), error.toString());
            assertTrue(wire.closedByServer());
        }
    }

    @Test
    void hangUpInTheMiddleOfAMessage() {
        try (PgWire wire = loggedIn()) {
            wire.send(new byte[] {'Q', 0, 0, 0, 100, 's', 'e', 'l'});
        }
    }

    // ---- helpers

    private PgWire loggedIn() {
        PgWire wire = PgWire.open(target.host(), target.port(), Duration.ofSeconds(10));
        wire.login(target);
        assertEquals(List.of(Fixtures.TENANT_A.schema()), wire.queryColumn("select current_schema()"));
        return wire;
    }

    /** An ErrorResponse must carry a SQLSTATE (Perseus's lacked them); a plain close (null) is also acceptable. */
    private static void assertErrorOrClose(Message errorOrNull) {
        if (errorOrNull != null) {
            assertNotNull(errorOrNull.sqlState(), "the ErrorResponse has a SQLSTATE: " + errorOrNull);
        }
    }
}
