package com.perseusproxy.server;

import com.perseusproxy.core.admin.AdminConsole;
import com.perseusproxy.core.admin.AdminUsers;
import com.perseusproxy.core.auth.Authenticator;
import com.perseusproxy.core.auth.PasswordVerifier;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.net.Transport;
import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.CancelForwarder;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.pool.DataLoops;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolSettings;
import com.perseusproxy.core.protocol.ClientFrameDecoder;
import com.perseusproxy.core.session.CancelKeys;
import com.perseusproxy.core.session.ClientLimits;
import com.perseusproxy.core.session.ClientRegistry;
import com.perseusproxy.core.session.ClientSession;
import com.perseusproxy.core.session.ClientTimeouts;
import com.perseusproxy.core.session.SessionServices;
import com.perseusproxy.core.tls.BackendTls;
import com.perseusproxy.core.tls.ClientTls;
import com.perseusproxy.core.tls.ClientTlsHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running proxy: a listening socket, WorkerThreads data event loops (one by default, as PgBouncer's single
 * thread), each owning the client sessions it accepted and one slice of every backend pool, which keeps the pooling
 * state free of locks, and a small executor for the blocking work the loops must never do (DNS).
 */
public final class ProxyServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ProxyServer.class);

    /** What the server needs to run, already parsed and validated. */
    public record Options(InetSocketAddress listen, Authenticator authenticator,
                          Function<Destination, PoolSettings> poolSettings, Duration loginTimeout,
                          int maxMessageBytes, CredentialSource credentialSource, ClientTls clientTls,
                          Function<Destination, BackendTls> serverTls, Supplier<ClientTimeouts.Settings> timeouts,
                          TrackedSettings tracked, ProxyEvents events, ConsoleLogins console,
                          Supplier<ClientLimits.Settings> limits) {

        /** Without connection limits or login throttle. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource, ClientTls clientTls,
                       Function<Destination, BackendTls> serverTls, Supplier<ClientTimeouts.Settings> timeouts,
                       TrackedSettings tracked, ProxyEvents events, ConsoleLogins console) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource, clientTls,
                    serverTls, timeouts, tracked, events, console, () -> ClientLimits.Settings.OFF);
        }

        /** Without the admin console and limits. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource, ClientTls clientTls,
                       Function<Destination, BackendTls> serverTls, Supplier<ClientTimeouts.Settings> timeouts,
                       TrackedSettings tracked, ProxyEvents events) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource, clientTls,
                    serverTls, timeouts, tracked, events, null);
        }

        /** With the default tracked settings (ClientSettings.TrackExtraParameters), reporting to no metrics. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource, ClientTls clientTls,
                       Function<Destination, BackendTls> serverTls, Supplier<ClientTimeouts.Settings> timeouts) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource, clientTls,
                    serverTls, timeouts, TrackedSettings.DEFAULT, ProxyEvents.NONE);
        }

        /** Without TLS, with the client timeouts off, reporting to no metrics. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource, TrackedSettings tracked) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource,
                    ClientTls.disabled(), d -> BackendTls.DISABLED, () -> ClientTimeouts.Settings.OFF, tracked,
                    ProxyEvents.NONE);
        }

        /** Without a place to re-read refused credentials from, without TLS, and with the client timeouts off. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, CredentialSource.NONE);
        }

        /** Without TLS on either side. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource,
                    ClientTls.disabled(), d -> BackendTls.DISABLED);
        }

        /** With the client timeouts off. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource, ClientTls clientTls,
                       Function<Destination, BackendTls> serverTls) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource, clientTls,
                    serverTls, () -> ClientTimeouts.Settings.OFF);
        }

        /** Without TLS on either side. */
        public Options(InetSocketAddress listen, Authenticator authenticator,
                       Function<Destination, PoolSettings> poolSettings, Duration loginTimeout, int maxMessageBytes,
                       CredentialSource credentialSource, Supplier<ClientTimeouts.Settings> timeouts) {
            this(listen, authenticator, poolSettings, loginTimeout, maxMessageBytes, credentialSource,
                    ClientTls.disabled(), d -> BackendTls.DISABLED, timeouts);
        }
    }

    /**
     * Who may log in to the admin console and how their passwords are checked.
     *
     * @param users read at each console login, so a reload applies to the next one
     */
    public record ConsoleLogins(PasswordVerifier verifier, Supplier<AdminUsers> users) {
    }

    private final EventLoopGroup acceptGroup;
    private final EventLoopGroup dataGroup;
    private final ExecutorService blockingExecutor;
    private final PoolRegistry pools;
    private final CancelKeys cancelKeys;
    private final ClientRegistry clients;
    private final AdminConsole console;
    private final ClientLimits limits;
    private final Channel serverChannel;

    /**
     * What scale-out adds: SO_REUSEPORT on the listener, the peers a CancelRequest may belong to, and the number of
     * data event loops (WorkerThreads, at least 1).
     */
    public record ScaleOut(boolean reusePort, com.perseusproxy.core.peers.PeerDirectory peers, int workerThreads) {
        public static final ScaleOut NONE = new ScaleOut(false, com.perseusproxy.core.peers.PeerDirectory.NONE);

        /** With one data loop. */
        public ScaleOut(boolean reusePort, com.perseusproxy.core.peers.PeerDirectory peers) {
            this(reusePort, peers, 1);
        }

        public ScaleOut {
            if (workerThreads < 1) {
                throw new IllegalArgumentException("workerThreads must be at least 1, got " + workerThreads);
            }
        }
    }

    private final boolean reusePort;

    private ProxyServer(Options options, ScaleOut scaleOut) throws InterruptedException {
        acceptGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("perseus-accept", true),
                Transport.ioHandlerFactory());
        dataGroup = new MultiThreadIoEventLoopGroup(scaleOut.workerThreads(),
                new DefaultThreadFactory("perseus-data", true), Transport.ioHandlerFactory());
        ThreadPoolExecutor dns = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(1000),
                new DefaultThreadFactory("perseus-dns", true));
        dns.allowCoreThreadTimeOut(true);
        blockingExecutor = dns;
        // Netty hands accepted channels to the data loops in turn; a session's backends then open on its loop.
        List<EventLoop> dataLoops = new ArrayList<>();
        dataGroup.forEach(executor -> dataLoops.add((EventLoop) executor));
        DataLoops loops = new DataLoops(dataLoops);
        pools = new PoolRegistry(loops, new BackendConnector(blockingExecutor, options.serverTls()),
                options.poolSettings(),
                options.credentialSource(), options.events());
        cancelKeys = new CancelKeys(scaleOut.peers()::ownSlot);
        clients = new ClientRegistry(loops, options.timeouts());
        Duration cleanupTimeout = Duration.ofSeconds(10);
        limits = new ClientLimits(options.limits());
        console = options.console() == null ? null : new AdminConsole(options.console().verifier(),
                options.console().users(), pools, clients::sessions, options.loginTimeout());
        if (console != null) {
            console.limits(limits);
        }
        SessionServices services = new SessionServices(options.authenticator(), pools, cancelKeys,
                new CancelForwarder(), options.loginTimeout(), cleanupTimeout, options.maxMessageBytes(), clients,
                options.tracked(), options.events(), console, limits, scaleOut.peers());
        ServerBootstrap bootstrap = new ServerBootstrap();
        // Asked for but not available (NIO transport): listen without it rather than not at all.
        reusePort = scaleOut.reusePort() && Transport.supportsReusePort();
        if (reusePort) {
            Transport.enableReusePort(bootstrap);
        } else if (scaleOut.reusePort()) {
            log.info("ListenReusePort: the {} transport has no SO_REUSEPORT; listening without it", Transport.name());
        }
        serverChannel = bootstrap
                .group(acceptGroup, dataGroup)
                .channel(Transport.serverSocketChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                // A client that vanished without a FIN (a crashed host, a dropped NAT entry) is noticed by the
                // kernel's keepalive probes, so its session and any backend it holds are released.
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 256 * 1024))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // An SslHandler goes in front of the decoder if the client's SSLRequest is accepted.
                        ch.pipeline().addLast(new ClientFrameDecoder(options.maxMessageBytes()),
                                new ClientTlsHandler(options.clientTls()), new ClientSession(services));
                    }
                })
                .bind(options.listen())
                .sync()
                .channel();
        log.info("listening on {} ({}{}, {} data loop{})", serverChannel.localAddress(), Transport.name(),
                reusePort ? ", SO_REUSEPORT" : "", loops.size(), loops.size() == 1 ? "" : "s");
    }

    /** Binds the listening socket and returns once the proxy accepts connections. */
    public static ProxyServer start(Options options) {
        return start(options, ScaleOut.NONE);
    }

    /** With SO_REUSEPORT and/or peers. */
    public static ProxyServer start(Options options, ScaleOut scaleOut) {
        try {
            return new ProxyServer(options, scaleOut);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting", e);
        }
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Whether the listening socket was bound with SO_REUSEPORT. */
    public boolean reusePort() {
        return reusePort;
    }

    public PoolRegistry pools() {
        return pools;
    }

    /** Connection limits and the login throttle (its counters are for the metrics). */
    public ClientLimits limits() {
        return limits;
    }

    /** The admin console, or null when it is off. */
    public AdminConsole console() {
        return console;
    }

    /** Every client session: the graceful shutdown drains them. */
    public ClientRegistry clients() {
        return clients;
    }

    /** Closes the listening socket (the first step of a shutdown); open sessions carry on. */
    public void stopAccepting() {
        serverChannel.close().awaitUninterruptibly();
        log.info("no longer accepting connections on {}", serverChannel.localAddress());
    }

    @Override
    public void close() {
        serverChannel.close().awaitUninterruptibly();
        clients.close();
        pools.close();
        acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        dataGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        blockingExecutor.shutdownNow();
    }
}
