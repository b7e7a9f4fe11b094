package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendListener;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;

/**
 * One backend connection as SHOW SERVERS shows it, copied on the loop.
 *
 * @param link the client session leasing it, or null (compared by identity with the console's client list)
 */
public record ServerInfo(int processId, String state, InetSocketAddress remote, InetSocketAddress local,
                         long createdAtNanos, long idleSinceNanos, BackendListener link, boolean tls) {

    static ServerInfo of(BackendConnection connection) {
        Channel channel = connection.channel();
        return new ServerInfo(connection.processId(), connection.consoleState(),
                channel == null ? null : (InetSocketAddress) channel.remoteAddress(),
                channel == null ? null : (InetSocketAddress) channel.localAddress(),
                connection.createdAtNanos(), connection.idleSinceNanos(), connection.leaseHolder(),
                channel != null && channel.pipeline().get(SslHandler.class) != null);
    }
}
