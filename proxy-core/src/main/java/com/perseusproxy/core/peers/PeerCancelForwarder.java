package com.perseusproxy.core.peers;

import com.perseusproxy.core.net.Transport;
import com.perseusproxy.core.protocol.ClientMessages;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a CancelRequest for another replica's key on to that replica's client port, on the data loop (a connect and
 * 16 bytes; nothing blocks). It goes as a "peer cancel" (request code {@code 1234.5699} instead of PostgreSQL's
 * {@code 1234.5678}, same layout), which a replica acts on locally and never forwards again, so even peers whose views
 * of the slots disagree for a moment cannot bounce a request between them. The peer applies its own lease check.
 */
public final class PeerCancelForwarder {

    private static final Logger log = LoggerFactory.getLogger(PeerCancelForwarder.class);

    private PeerCancelForwarder() {
    }

    /**
     * Routes a CancelRequest that matched no local session: forwards it to the peer owning the key's slot, or drops it.
     *
     * @param forwarded whether it came from a peer already (then it is never sent on)
     */
    public static void route(PeerDirectory peers, EventLoop loop, int processId, int secretKey, boolean forwarded) {
        if (forwarded) {
            peers.countDropped();
            return;
        }
        int slot = CancelKeyBits.slotOf(processId);
        InetSocketAddress peer = peers.ownSlot() == 0 ? null : peers.addressOf(slot);
        if (peer == null) {
            peers.countDropped(); // nobody live owns it: ignored, as PostgreSQL ignores an unknown key
            return;
        }
        peers.countForwarded();
        new Bootstrap().group(loop).channel(Transport.socketChannel())
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 2_000)
                .handler(new ChannelInboundHandlerAdapter())
                .connect(peer)
                .addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        log.info("could not forward a cancel request to peer slot {} at {}: {}", slot, peer,
                                f.cause().toString());
                        return;
                    }
                    f.channel().writeAndFlush(ClientMessages.peerCancelRequest(f.channel().alloc(), processId,
                            secretKey));
                    // The peer closes the connection once it has acted; a peer that does not is cut off.
                    f.channel().eventLoop().schedule(() -> f.channel().close(), 5, TimeUnit.SECONDS);
                });
    }
}
