package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.tls.BackendTls;
import com.perseusproxy.core.tls.ServerTlsMode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import org.junit.jupiter.api.Test;

/** The SSLRequest exchange with a backend, byte by byte: what each answer leads to, per SSLMode. */
class BackendTlsHandlerTest {

    private static final Destination DESTINATION = new Destination("db.internal", 5432, "appdb", "app");

    /** Stands in for BackendConnection: records whether the login may start, and the failure. */
    private static final class Login extends ChannelInboundHandlerAdapter {
        boolean active;
        Throwable failure;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            active = true;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (failure == null) {
                failure = cause;
            }
        }
    }

    private static BackendTls tls(ServerTlsMode mode) throws Exception {
        return new BackendTls(mode, SslContextBuilder.forClient()
                .trustManager(InsecureTrustManagerFactory.INSTANCE).build(), false);
    }

    private static EmbeddedChannel channel(ServerTlsMode mode, Login login) throws Exception {
        EmbeddedChannel channel = new EmbeddedChannel(false, false);
        channel.pipeline().addLast(new BackendTlsHandler(tls(mode), DESTINATION), login);
        channel.register();
        ByteBuf request = channel.readOutbound();
        assertNotNull(request, "an SSLRequest is sent first");
        assertEquals(8, request.readInt());
        assertEquals(80877103, request.readInt());
        request.release();
        return channel;
    }

    @Test
    void bytesAfterTheServersSAreRefusedBeforeAnyHandshake() throws Exception {
        // CVE-2021-23222: whatever follows the 'S' in the same read was not protected by TLS.
        Login login = new Login();
        EmbeddedChannel channel = channel(ServerTlsMode.REQUIRE, login);
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'S', 'R', 0, 0, 0, 8, 0, 0, 0, 0}));
        assertFalse(login.active, "no login over a tampered stream");
        PgException error = (PgException) login.failure;
        assertEquals("08001", error.sqlState());
        assertTrue(error.getMessage().contains("unencrypted data right after its answer"), error.getMessage());
        assertNull(channel.pipeline().get("tls"), "no TLS handshake started");
        channel.finishAndReleaseAll();
    }

    @Test
    void preferFallsBackToPlaintextOnN() throws Exception {
        Login login = new Login();
        EmbeddedChannel channel = channel(ServerTlsMode.PREFER, login);
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'N'}));
        assertTrue(login.active, "the plaintext login starts");
        assertNull(login.failure);
        assertNull(channel.pipeline().get(BackendTlsHandler.class), "the negotiation is out of the way");
        channel.finishAndReleaseAll();
    }

    @Test
    void requireAndVerifyModesRefuseAServerThatSaysN() throws Exception {
        for (ServerTlsMode mode : new ServerTlsMode[] {ServerTlsMode.REQUIRE, ServerTlsMode.VERIFY_CA,
                ServerTlsMode.VERIFY_FULL}) {
            Login login = new Login();
            EmbeddedChannel channel = channel(mode, login);
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'N'}));
            assertFalse(login.active);
            assertTrue(login.failure.getMessage().contains("SSLMode is " + mode.configName()),
                    login.failure.getMessage());
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void sStartsTheHandshakeBeforeTheLogin() throws Exception {
        Login login = new Login();
        EmbeddedChannel channel = channel(ServerTlsMode.REQUIRE, login);
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {'S'}));
        assertNotNull(channel.pipeline().get("tls"), "an SslHandler now sits in front");
        assertFalse(login.active, "the login waits for the handshake");
        ByteBuf clientHello = channel.readOutbound();
        assertNotNull(clientHello, "the handshake began");
        assertEquals(0x16, clientHello.getUnsignedByte(0), "a TLS handshake record");
        clientHello.release();
        channel.finishAndReleaseAll();
    }
}
