package com.perseusproxy.core.net;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.ServerSocketChannel;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The socket implementation: Linux's native epoll when Netty's native library loads (fewer system calls and copies per
 * message, which a proxy pays twice per round trip), the JDK's NIO otherwise. Event loops and channels must come from
 * the same choice.
 */
public final class Transport {

    private static final boolean EPOLL = !Boolean.getBoolean("perseus.nio") && Epoll.isAvailable();

    private Transport() {
    }

    public static IoHandlerFactory ioHandlerFactory() {
        return EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    public static Class<? extends SocketChannel> socketChannel() {
        return EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    public static Class<? extends ServerSocketChannel> serverSocketChannel() {
        return EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /**
     * Whether listening sockets can share a port with another process (SO_REUSEPORT): Netty exposes it on the epoll
     * transport only. It lets a new proxy process bind the port while the old one drains, so an upgrade on one host
     * refuses no connection.
     */
    public static boolean supportsReusePort() {
        return EPOLL;
    }

    /** Sets SO_REUSEPORT on a server bootstrap; call only when {@link #supportsReusePort()}. */
    public static void enableReusePort(io.netty.bootstrap.ServerBootstrap bootstrap) {
        bootstrap.option(io.netty.channel.epoll.EpollChannelOption.SO_REUSEPORT, true);
    }

    public static String name() {
        return EPOLL ? "epoll" : "nio";
    }
}
