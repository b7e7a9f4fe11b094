package com.perseusproxy.core.tls;

import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.ServerMessages;
import com.perseusproxy.core.protocol.StartupPacket;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The encryption negotiation of one client connection, between the startup decoder and the session:
 *
 * <pre>
 *  before:  ClientFrameDecoder ─► ClientTlsHandler ─► ClientSession
 *  after 'S': SslHandler ─► ClientFrameDecoder ─► ClientTlsHandler ─► ClientSession
 * </pre>
 *
 * <ul>
 *   <li>SSLRequest: 'S' and a TLS handshake when {@code ClientTLSSettings.SSLMode} offers TLS, else 'N'. The 'S' is
 *   written before the SslHandler joins the pipeline, so it leaves in plaintext as the protocol wants. Bytes that
 *   came with the SSLRequest never reach here: the decoder refuses them (CVE-2021-23214). Bytes sent after it in
 *   plaintext reach the SslHandler, which rejects them as not TLS.</li>
 *   <li>GSSENCRequest: always 'N' (the client goes on with TLS or plaintext).</li>
 *   <li>StartupMessage in plaintext while the mode is {@code require}: refused with 28000 before the proxy asks for
 *   a password, so no password ever crosses the network in the clear.</li>
 * </ul>
 * CancelRequests pass in plaintext in every mode: libpq before PostgreSQL 17 never encrypts them, and they carry only
 * a random key.
 */
public final class ClientTlsHandler extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientTlsHandler.class);

    private final ClientTls tls;
    private boolean encrypted;

    public ClientTlsHandler(ClientTls tls) {
        this.tls = tls;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof StartupPacket.SslRequest) {
            onSslRequest(ctx);
        } else if (msg instanceof StartupPacket.GssEncRequest) {
            ctx.writeAndFlush(ServerMessages.encryptionRefused());
        } else if (msg instanceof StartupPacket.Startup && !encrypted
                && tls.current().mode() == ClientTlsMode.REQUIRE) {
            log.info("refusing plaintext client {}: ClientTLSSettings.SSLMode is require", ctx.channel().remoteAddress());
            refuse(ctx, new PgException("28000", "this proxy accepts only TLS-encrypted connections"
                    + " (ClientTLSSettings.SSLMode is require): connect with sslmode=require (or verify-ca,"
                    + " verify-full)"));
        } else {
            boolean startup = msg instanceof StartupPacket.Startup;
            ctx.fireChannelRead(msg);
            if (startup && !encrypted && ctx.channel().isActive()) {
                // A plaintext session past its StartupMessage can no longer ask for TLS: every later message would
                // only pass through here, so leave the pipeline.
                ctx.pipeline().remove(this);
            }
        }
    }

    private void onSslRequest(ChannelHandlerContext ctx) {
        if (encrypted) {
            refuse(ctx, new PgException("08P01", "SSLRequest received on a connection that is already encrypted"));
            return;
        }
        ClientTls.Settings settings = tls.current();
        if (!settings.mode().offersTls()) {
            ctx.writeAndFlush(ServerMessages.encryptionRefused());
            return;
        }
        ctx.writeAndFlush(ServerMessages.encryptionAccepted());
        SslHandler ssl = settings.context().newHandler(ctx.alloc());
        ctx.pipeline().addFirst("tls", ssl);
        encrypted = true;
        ssl.handshakeFuture().addListener(f -> {
            if (f.isSuccess()) {
                log.debug("client {} TLS: {} {}", ctx.channel().remoteAddress(),
                        ssl.engine().getSession().getProtocol(), ssl.engine().getSession().getCipherSuite());
            }
        });
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (TlsFailures.isTlsFailure(cause)) {
            // Nothing can be said to the client: the session is not encrypted, and plaintext would not be read.
            log.info("client {}: TLS failed, connection closed: {}", ctx.channel().remoteAddress(), TlsFailures.reason(cause));
            ctx.close();
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    private static void refuse(ChannelHandlerContext ctx, PgException error) {
        ctx.writeAndFlush(ServerMessages.errorResponse(ctx.alloc(), error)).addListener(ChannelFutureListener.CLOSE);
    }
}
