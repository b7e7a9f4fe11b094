package com.perseusproxy.core.backend;

import com.perseusproxy.core.net.Transport;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgFrameRunDecoder;
import com.perseusproxy.core.tls.BackendTls;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.util.NetUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Opens logged-in backend connections. Host names are resolved on a blocking executor (never on the event loop); the
 * whole of connect + TLS negotiation + login is bounded by the pool's {@code ConnCreateTimeoutSecs}.
 *
 * <pre>
 * pipeline:  [BackendTlsHandler → SslHandler] → PgFrameRunDecoder → BackendReader (of the BackendConnection)
 * </pre>
 * The TLS part is there only when the destination's {@code ServerTLSSettings.SSLMode} is not {@code disable}.
 *
 * <p>Not final: the lease tests ({@code LeaseRig}) open scripted connections on embedded channels instead of sockets.
 */
public class BackendConnector {

    /** Backend messages are trusted more than client ones, but a runaway length must not exhaust the heap. */
    private static final int MAX_BACKEND_MESSAGE_BYTES = Integer.MAX_VALUE - 16;
    /** MaxLifetime is shortened by up to this fraction per connection, so a pool's connections do not expire together. */
    private static final double LIFETIME_JITTER = 0.1;

    private final Executor blockingExecutor;
    /** Read at each connect, so a reloaded ServerTLSSettings applies to the next connection. */
    private final Function<Destination, BackendTls> tlsFor;

    /** Plaintext to every backend. */
    public BackendConnector(Executor blockingExecutor) {
        this(blockingExecutor, d -> BackendTls.DISABLED);
    }

    public BackendConnector(Executor blockingExecutor, Function<Destination, BackendTls> tlsFor) {
        this.blockingExecutor = blockingExecutor;
        this.tlsFor = tlsFor;
    }

    public Future<BackendConnection> connect(EventLoop loop, Destination destination, BackendCredentials credentials,
                                             ConnectionOwner owner, Duration createTimeout, Duration maxLifetime) {
        Promise<BackendConnection> promise = loop.newPromise();
        loop.schedule(() -> promise.tryFailure(new PgException("08001", "connecting to backend " + destination
                + " took longer than " + createTimeout.toSeconds() + " s (PoolSettings.ConnCreateTimeoutSecs)")),
                createTimeout.toMillis(), TimeUnit.MILLISECONDS);
        long lifetimeNanos = jitteredLifetime(maxLifetime);
        String host = destination.host();
        if (NetUtil.isValidIpV4Address(host) || NetUtil.isValidIpV6Address(host)) {
            open(loop, new InetSocketAddress(NetUtil.createInetAddressFromIpAddressString(host), destination.port()),
                    destination, credentials, owner, promise, createTimeout, lifetimeNanos);
        } else {
            try {
                blockingExecutor.execute(() -> resolveThenOpen(loop, destination, credentials, owner, promise,
                        createTimeout, lifetimeNanos));
            } catch (RejectedExecutionException e) {
                promise.tryFailure(new PgException("53300", "too many backend host names are being resolved at once;"
                        + " retry shortly"));
            }
        }
        return promise;
    }

    /** Runs on the blocking executor: name resolution may wait on the network. */
    private void resolveThenOpen(EventLoop loop, Destination destination, BackendCredentials credentials,
                                 ConnectionOwner owner, Promise<BackendConnection> promise, Duration createTimeout,
                                 long lifetimeNanos) {
        try {
            InetAddress address = InetAddress.getByName(destination.host());
            loop.execute(() -> open(loop, new InetSocketAddress(address, destination.port()), destination,
                    credentials, owner, promise, createTimeout, lifetimeNanos));
        } catch (UnknownHostException e) {
            promise.tryFailure(new PgException("08001", "cannot resolve backend host '" + destination.host()
                    + "' of " + destination + "; check dest_host in perseus_auth"));
        }
    }

    private void open(EventLoop loop, InetSocketAddress address, Destination destination,
                      BackendCredentials credentials, ConnectionOwner owner, Promise<BackendConnection> promise,
                      Duration createTimeout, long lifetimeNanos) {
        if (promise.isDone()) {
            return;
        }
        BackendConnection connection = new BackendConnection(destination, credentials, owner, promise,
                lifetimeNanos);
        BackendTls tls = tlsFor.apply(destination);
        ChannelFuture connect = new Bootstrap()
                .group(loop)
                .channel(Transport.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE,
                        createTimeout.toMillis()))
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (tls.mode().triesTls()) {
                            ch.pipeline().addLast(new BackendTlsHandler(tls, destination));
                        }
                        ch.pipeline().addLast(new PgFrameRunDecoder(MAX_BACKEND_MESSAGE_BYTES), connection.reader());
                    }
                })
                .connect(address);
        connect.addListener(f -> {
            if (!f.isSuccess()) {
                promise.tryFailure(new PgException("08001", "cannot connect to backend " + destination + ": "
                        + f.cause().getMessage(), true, null));
            }
        });
        promise.addListener(f -> {
            if (!f.isSuccess()) {
                connect.channel().close();
            }
        });
    }

    private static long jitteredLifetime(Duration maxLifetime) {
        if (maxLifetime.isZero() || maxLifetime.isNegative()) {
            return 0;
        }
        double factor = 1.0 - ThreadLocalRandom.current().nextDouble() * LIFETIME_JITTER;
        return (long) (maxLifetime.toNanos() * factor);
    }
}
