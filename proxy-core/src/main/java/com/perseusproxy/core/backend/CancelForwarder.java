package com.perseusproxy.core.backend;

import com.perseusproxy.core.net.Transport;
import com.perseusproxy.core.protocol.ClientMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a CancelRequest to the server of a backend connection, on a new connection as the protocol requires. The
 * backend is held out of the pool until the request has been delivered, so a late cancel can never hit the next
 * tenant's query (PgBouncer's "being canceled" state).
 */
public final class CancelForwarder implements CancelSender {

    private static final Logger log = LoggerFactory.getLogger(CancelForwarder.class);

    @Override
    public void cancel(BackendConnection target) {
        SocketAddress server = target.channel().remoteAddress();
        if (server == null) {
            return;
        }
        target.cancelStarted();
        Bootstrap bootstrap = new Bootstrap()
                .group(target.channel().eventLoop())
                .channel(Transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000)
                .handler(new ChannelInboundHandlerAdapter());
        ChannelFuture connect = bootstrap.connect(server);
        connect.addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                log.warn("could not deliver a cancel request to {}: {}", target.destination(), f.cause().toString());
                target.cancelFinished();
                return;
            }
            f.channel().writeAndFlush(ClientMessages.cancelRequest(f.channel().alloc(), target.processId(),
                    target.secretKey()));
            // The server closes the connection once it has acted on the request: only then is it delivered.
            ScheduledFuture<?> giveUp = f.channel().eventLoop().schedule(() -> {
                f.channel().close();
            }, 5, TimeUnit.SECONDS);
            f.channel().closeFuture().addListener(c -> {
                giveUp.cancel(false);
                target.cancelFinished();
            });
        });
    }
}
