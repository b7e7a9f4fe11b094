package com.perseusproxy.core.session;

import com.perseusproxy.core.admin.AdminConsole;
import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.net.AutoRead;
import com.perseusproxy.core.peers.PeerCancelForwarder;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.PgProtocolException;
import com.perseusproxy.core.protocol.ServerMessages;
import com.perseusproxy.core.protocol.StartupPacket;
import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: login, then transaction pooling.
 *
 * <pre>
 * client                      proxy                                   pool / backend
 *   StartupMessage      -->   parse tenant (user, database, schema)
 *                       <--   AuthenticationCleartextPassword
 *   PasswordMessage     -->   lookup + scrypt + decrypt (off-loop)
 *                             probe lease: SET search_path, settings  -->  (learns server parameters)
 *                       <--   AuthenticationOk, ParameterStatus*, BackendKeyData, ReadyForQuery
 *   Query / Parse...    -->   acquire, then SET search_path (pipelined) + the client's messages  -->
 *                       <--   replies, forwarded as they come                               <--
 *                             ReadyForQuery 'I' with nothing owed: release the backend
 * </pre>
 *
 * All of it runs on the client channel's event loop, which is also the pools' loop. This class is the client's
 * socket (the Netty handler), the session's state machine and its error path, and what the registry (timeouts,
 * drain) and the admin console ask of a session. The login (StartupMessage to AuthenticationOk, probe included) is
 * {@link ClientLogin}'s; the backend it holds and the traffic both ways are {@link TransactionPooling}'s.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong();

    /**
     * Where the session stands; STARTUP to PROBING are {@link ClientLogin}'s,
     * IDLE to ACTIVE {@link TransactionPooling}'s.
     */
    enum State {
        /** Waiting for a StartupMessage (an SSLRequest or GSSENCRequest may come first). */
        STARTUP,
        /** AuthenticationCleartextPassword sent; waiting for the password. */
        PASSWORD,
        /** The login is being checked off the event loop. */
        AUTHENTICATING,
        /** Logged in; one lease learns the server's parameters and checks the client's settings. */
        PROBING,
        /** Logged in, between transactions: no backend. */
        IDLE,
        /** Waiting for a backend; the client's messages are queued. */
        WAITING,
        /** A backend is leased; messages flow both ways. */
        ACTIVE,
        /** The connection is closing or closed. */
        CLOSED
    }

    private final SessionServices services;
    private Channel channel;
    private State state = State.STARTUP;
    /** The login phase; created with the channel. */
    private ClientLogin login;
    /** The backend held and the traffic both ways; created with the channel. */
    private TransactionPooling transactions;
    /** The tracked settings this client's session should have, in the server's spelling of their values. */
    private final DesiredSettings desiredSettings = new DesiredSettings();
    private int[] cancelKey;
    /** Idle, idle-in-transaction and query timeouts; checked by {@link ClientRegistry}'s sweep. */
    private final ClientTimeouts timeouts = new ClientTimeouts();
    /** The login and logout log lines, and the counts the logout line reports. */
    private final SessionLog sessionLog = new SessionLog();

    /** The session's number, for the console (SHOW CLIENTS' ptr, KILL_CLIENT). */
    private final long id = NEXT_ID.incrementAndGet();
    private final long connectedNanos = System.nanoTime();

    public ClientSession(SessionServices services) {
        this.services = services;
    }

    // ---- Netty callbacks -------------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        login = new ClientLogin(this, services, channel);
        transactions = new TransactionPooling(this, services, channel, login, timeouts, sessionLog, desiredSettings,
                connectedNanos);
        services.clients().add(this);
        login.startTimeout();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof StartupPacket packet) {
            onStartupPacket(packet);
            return;
        }
        PgMessage message = (PgMessage) msg;
        long now = timeouts.onClientMessage();
        sessionLog.fromClient(message.frame().readableBytes());
        if (message.tag() == FrontendTag.PASSWORD && state != State.PASSWORD) {
            // PostgreSQL refuses it after authentication; forwarded, it would make the backend end its session.
            message.release();
            throw new PgProtocolException("invalid frontend message type 112 ('p'): a password message after the"
                    + " login; the client is out of step with the protocol - reconnect");
        }
        switch (state) {
            case PASSWORD -> {
                try {
                    login.onPassword(message);
                } finally {
                    message.release();
                }
            }
            case IDLE -> transactions.onIdleMessage(message, now);
            // A client may pipeline its first query behind the password; it runs once the login completes.
            case AUTHENTICATING, PROBING, WAITING -> transactions.queue(message);
            case ACTIVE -> transactions.forward(message, now);
            default -> message.release(); // STARTUP cannot get here; CLOSED expects nothing
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        timeouts.clientReadComplete();
        if (state == State.ACTIVE) {
            transactions.backend().flush();
            channel.flush(); // replies the proxy made up itself (ParseComplete, CloseComplete)
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state == State.ACTIVE) {
            // A client that reads slowly must not make the proxy buffer a whole result: stop reading the backend.
            AutoRead.set(transactions.backend().channel(), channel.isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        state = State.CLOSED;
        services.clients().remove(this);
        login.leave();
        sessionLog.loggedOut(startup(), channel.remoteAddress());
        transactions.reportBytes();
        if (cancelKey != null) {
            services.cancelKeys().unregister(cancelKey[0], cancelKey[1]);
        }
        transactions.clientLeft();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof java.io.IOException) {
            log.debug("client {} connection failed: {}", channel.remoteAddress(), cause.toString());
            channel.close();
        } else if (cause instanceof PgProtocolException) {
            log.info("closing client {}: protocol violation: {}", channel.remoteAddress(), cause.getMessage());
            fail(new PgException("08P01", cause.getMessage()));
        } else if (cause instanceof PgException pg) {
            fail(pg);
        } else {
            log.warn("closing client {} after an unexpected error", channel.remoteAddress(), cause);
            fail(new PgException("XX000", "internal proxy error; the connection is closed, please reconnect"));
        }
    }

    // ---- login -----------------------------------------------------------------------------------------------

    private void onStartupPacket(StartupPacket packet) {
        if (packet instanceof StartupPacket.Startup start) {
            onStartup(start);
        } else if (packet instanceof StartupPacket.Cancel cancel) {
            ClientSession target = services.cancelKeys().find(cancel.processId(), cancel.secretKey());
            if (cancel.forwarded()) {
                services.peers().countReceived();
            }
            if (target != null) {
                // The target may be served on another data loop; its state is touched only on its own.
                EventLoop targetLoop = target.channel.eventLoop();
                if (targetLoop.inEventLoop()) {
                    target.cancelRunningQuery();
                } else {
                    targetLoop.execute(target::cancelRunningQuery);
                }
            } else {
                // Another replica's key (a load balancer spreads connections on their own): that replica decides.
                PeerCancelForwarder.route(services.peers(), channel.eventLoop(), cancel.processId(),
                        cancel.secretKey(), cancel.forwarded());
            }
            channel.close();
        } else {
            // SSLRequest or GSSENCRequest: refused for now; the client goes on with a plain StartupMessage.
            channel.writeAndFlush(ServerMessages.encryptionRefused());
        }
    }

    private void onStartup(StartupPacket.Startup start) {
        if (services.clients().draining()) {
            fail(ClientRegistry.shuttingDown());
            return;
        }
        if (services.console() != null && AdminConsole.claims(start.parameters().get("database"))) {
            // The console session has its own login timeout and is no tenant session: SHOW CLIENTS, the timeouts
            // and the drain do not count it.
            login.cancelTimeout();
            services.clients().remove(this);
            services.console().takeOver(channel, this, start);
            return;
        }
        login.onStartup(start);
    }

    // ---- what ClientLogin uses of the session (on the loop) --------------------------------------------------

    State state() {
        return state;
    }

    void enter(State next) {
        state = next;
    }

    DesiredSettings desiredSettings() {
        return desiredSettings;
    }

    SessionLog sessionLog() {
        return sessionLog;
    }

    /** The held backend and the client's traffic: the login routes it, holds its probe there, starts it. */
    TransactionPooling transactions() {
        return transactions;
    }

    /** The login succeeded: the session's traffic handle and cancel key; returns the key for BackendKeyData. */
    int[] loggedIn(TenantRoute route) {
        transactions.countAs(services.events().tenant(route.database(), route.schema()));
        cancelKey = services.cancelKeys().register(this);
        return cancelKey;
    }

    /** A CancelRequest named this session: cancel its running query on the backend it leases, if any. */
    void cancelRunningQuery() {
        BackendConnection backend = transactions.backend();
        if (state == State.ACTIVE && backend != null && backend.hasClientWorkInFlight()) {
            services.cancelSender().cancel(backend);
        }
    }

    // ---- admin console (read on the loop) --------------------------------------------------------------------

    /** What SHOW CLIENTS shows of this session. */
    public ClientInfo info() {
        String shown = switch (state) {
            case IDLE, ACTIVE -> "active";
            case WAITING -> "waiting";
            case CLOSED -> "closed";
            default -> "login";
        };
        long now = System.nanoTime();
        long requestNanos = transactions.requestNanos();
        BackendPool pool = transactions.pool();
        BackendConnection backend = transactions.backend();
        TenantStartup startup = startup();
        return new ClientInfo(id, startup == null ? null : startup.user(), startup == null ? null : startup.database(),
                startup == null ? null : startup.schema(), shown, channel.remoteAddress(), channel.localAddress(),
                connectedNanos, requestNanos, state == State.WAITING ? now - requestNanos : 0,
                pool == null ? null : pool.destination(), backend == null ? 0 : backend.processId(),
                channel.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null,
                startup == null ? null : startup.settings().get("application_name"),
                startup == null ? java.util.List.of() : startup.dropped());
    }

    /** Whether this session holds the given backend's lease (SHOW SERVERS' link column). */
    public boolean leases(Object backendListener) {
        return backendListener == transactions;
    }

    /** KILL_CLIENT, KILL: ends this session with the error; a transaction in flight is rolled back. */
    public void kill(PgException error) {
        log.info("closing client {} ({}): {}", channel.remoteAddress(), startup(), error.getMessage());
        fail(error);
    }

    // ---- timeouts and shutdown (see ClientTimeouts, ClientRegistry) -----------------------------------------

    /** The registry's sweep: fires a timeout that has passed. */
    void checkTimeouts(long nowNanos, ClientTimeouts.Settings settings) {
        if (state == State.IDLE || state == State.ACTIVE) {
            if (timeouts.check(nowNanos, settings, state == State.IDLE,
                    state == State.ACTIVE ? transactions.backend() : null,
                    services.cancelSender(), this::expire)) {
                services.events().timeout(ProxyEvents.Timeout.QUERY);
            }
        }
    }

    private void expire(PgException error, boolean closeBackend) {
        switch (error.sqlState()) {
            case "25P03" -> services.events().timeout(ProxyEvents.Timeout.IDLE_IN_TRANSACTION);
            case "57P05" -> services.events().timeout(ProxyEvents.Timeout.CLIENT_IDLE);
            default -> { } // 57014 after a cancel that did not stop the query: counted when the cancel was sent
        }
        log.info("closing client {} ({}): {}", channel.remoteAddress(), startup(), error.getMessage());
        if (closeBackend) {
            transactions.closeBackend(); // mid-transaction: it cannot serve anyone else
        }
        fail(error);
    }

    /**
     * The shutdown has begun: a client between transactions, or not yet logged in, or still waiting for its first
     * backend (nothing of its transaction has run), is closed with 57P01 now. One inside a transaction finishes it
     * ({@link TransactionPooling#onBackendIdle}); one whose password is being checked is refused when the check completes.
     */
    void onDrain() {
        if (state == State.STARTUP || state == State.PASSWORD || state == State.IDLE
                || (state == State.WAITING && transactions.backend() == null)) {
            fail(ClientRegistry.shuttingDown());
        }
    }

    /** Where the session stands for {@link ClientRegistry.States}: one of its {@code *_STATE} indexes, -1 if closed. */
    int metricsState() {
        return switch (state) {
            case STARTUP, PASSWORD, AUTHENTICATING, PROBING -> ClientRegistry.States.LOGIN;
            case IDLE -> ClientRegistry.States.IDLE;
            case WAITING -> ClientRegistry.States.WAITING;
            case ACTIVE -> ClientRegistry.States.ACTIVE;
            case CLOSED -> -1;
        };
    }

    /** Whether the drain must wait for this session: it holds a backend, or its login or lease is under way. */
    boolean busy() {
        return transactions.backend() != null || state == State.AUTHENTICATING || state == State.PROBING
                || state == State.WAITING;
    }

    /** The drain is over: close whatever is left. */
    void terminate(PgException error) {
        fail(error);
    }

    // ---- errors ----------------------------------------------------------------------------------------------

    void fail(PgException error) {
        if (!channel.isActive()) {
            return;
        }
        if (!sessionLog.loggedIn() && state != State.CLOSED) {
            if (login == null || error != login.throttleRefusal()) {
                sessionLog.loginFailed(startup(), error, channel.remoteAddress()); // bad passwords: ClientLimits summarizes
            }
            services.events().login(ProxyEvents.LoginResult.ofSqlState(error.sqlState()));
        }
        channel.writeAndFlush(ServerMessages.errorResponse(channel.alloc(), error))
                .addListener(ChannelFutureListener.CLOSE);
        if (error.fatal()) {
            state = State.CLOSED;
        }
    }

    PgException asClientError(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof PgException pg) {
            return pg;
        }
        log.warn("login of {} failed unexpectedly", startup(), cause);
        return new PgException("XX000", "internal proxy error during login; see the proxy log and retry");
    }

    /** The tenant's startup parameters; null before the StartupMessage. */
    private TenantStartup startup() {
        return login == null ? null : login.startup();
    }
}
