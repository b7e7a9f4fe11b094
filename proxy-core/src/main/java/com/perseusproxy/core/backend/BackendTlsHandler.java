package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.ClientMessages;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.tls.BackendTls;
import com.perseusproxy.core.tls.TlsFailures;
import com.perseusproxy.core.tls.ServerTlsMode;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import java.util.List;

/**
 * Asks a backend for TLS before the login, as libpq does, according to {@code ServerTLSSettings.SSLMode}:
 *
 * <pre>
 * proxy                         server
 *   SSLRequest          -->
 *                       <--     'S'  → TLS handshake (chain / host name checked per mode), then the login inside it
 *                       <--     'N'  → prefer: plaintext login; require, verify-*: refused
 * </pre>
 *
 * Sits first in the pipeline and holds back {@code channelActive}, so {@link BackendReader} starts its login only
 * once the channel is what the mode demands. A refusal reaches the connection as a {@link PgException} through
 * {@code exceptionCaught}, which fails the login with that message. Bytes that arrive together with the server's
 * answer were sent before any handshake and may come from a man in the middle (CVE-2021-23222): refused.
 */
final class BackendTlsHandler extends ByteToMessageDecoder {

    private final BackendTls tls;
    private final Destination destination;
    private boolean answered;

    BackendTlsHandler(BackendTls tls, Destination destination) {
        this.tls = tls;
        this.destination = destination;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(ClientMessages.sslRequest(ctx.alloc()));
        // channelActive is passed on when the negotiation is over.
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (answered || !in.isReadable()) {
            return;
        }
        answered = true;
        byte answer = in.readByte();
        if (answer == 'E') {
            // An ErrorResponse from before any authentication (e.g. too many connections); not worth trusting.
            fail(ctx, "backend " + destination + " answered the proxy's SSL request with an error (it may be out of"
                    + " connections); retry, and check the server's log");
            return;
        }
        if (in.isReadable()) {
            fail(ctx, "backend " + destination + " sent unencrypted data right after its answer to the SSL request;"
                    + " this is either a server bug or an attempted man-in-the-middle attack, so the connection was"
                    + " refused");
            return;
        }
        if (answer == 'S') {
            startTls(ctx);
        } else if (answer == 'N') {
            if (tls.mode().requiresTls()) {
                fail(ctx, "backend " + destination + " does not accept TLS connections, but its"
                        + " ServerTLSSettings.SSLMode is " + tls.mode().configName() + ": enable ssl in the server's"
                        + " postgresql.conf, or lower the SSLMode to prefer");
                return;
            }
            ChannelPipeline pipeline = ctx.pipeline();
            ctx.fireChannelActive(); // plaintext login, as with SSLMode prefer the server may choose
            pipeline.remove(this);
        } else {
            fail(ctx, "backend " + destination + " gave an invalid answer to the proxy's SSL request; check that"
                    + " dest_host and its port name a PostgreSQL server");
        }
    }

    private void startTls(ChannelHandlerContext ctx) {
        SslHandler ssl = tls.newHandler(ctx.alloc(), destination.host(), destination.port());
        ChannelPipeline pipeline = ctx.pipeline();
        pipeline.addAfter(ctx.name(), "tls", ssl); // starts the handshake: the channel is active
        ChannelHandlerContext sslContext = pipeline.context(ssl);
        pipeline.remove(this);
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                sslContext.fireChannelActive(); // the login now runs inside TLS
            } else {
                // Reported before the SslHandler's own exception, so the login fails with this explanation.
                sslContext.fireExceptionCaught(new PgException("08001", "TLS handshake with backend " + destination
                        + " failed (" + describe() + "): " + handshakeReason(f.cause()), true, null));
            }
        });
    }

    private String handshakeReason(Throwable cause) {
        String message = TlsFailures.reason(cause);
        if (tls.mode() == ServerTlsMode.VERIFY_FULL && (message.contains("subject alternative")
                || message.contains("No name matching") || message.contains("No subject alternative"))) {
            return "the server's certificate does not name host '" + destination.host() + "' (" + message + ");"
                    + " use a dest_host the certificate names, or give the server a certificate for this name";
        }
        if (message.contains("PKIX") || message.contains("certification path")) {
            return "the server's certificate is not signed by a CA in RootCertFile (" + message + ")";
        }
        return message;
    }

    private String describe() {
        return tls.describe();
    }

    private void fail(ChannelHandlerContext ctx, String message) {
        ctx.fireExceptionCaught(new PgException("08001", message, true, null));
    }
}
