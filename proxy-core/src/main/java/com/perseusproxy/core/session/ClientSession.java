package com.perseusproxy.core.session;

import com.perseusproxy.core.admin.AdminConsole;
import com.perseusproxy.core.statements.PreparedStatementRouter;
import com.perseusproxy.core.statements.UnnamedStatement;
import com.perseusproxy.core.peers.PeerCancelForwarder;
import com.perseusproxy.core.auth.LoginRequest;
import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendListener;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
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
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
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
 * All of it runs on the client channel's event loop, which is also the pools' loop. The login (StartupMessage to
 * AuthenticationOk, probe included) is {@link ClientLogin}'s; this class is the Netty handler and the transaction
 * pooling.
 */
public final class ClientSession extends ChannelInboundHandlerAdapter implements BackendListener {

    private static final Logger log = LoggerFactory.getLogger(ClientSession.class);
    /** A reset that fails again and again points at the server, not at one broken connection. */
    private static final int MAX_FAILED_RESETS = 3;
    private static final java.util.concurrent.atomic.AtomicLong NEXT_ID = new java.util.concurrent.atomic.AtomicLong();

    /** Where the session stands; STARTUP to PROBING are {@link ClientLogin}'s. */
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
    private final ArrayDeque<PgMessage> queued = new ArrayDeque<>();
    private Channel channel;
    private State state = State.STARTUP;
    /** The login phase; created with the channel. */
    private ClientLogin login;
    private BackendPool pool;
    private BackendConnection backend;
    private Future<BackendConnection> pendingAcquire;
    private ScheduledFuture<?> loginTimeout;
    /** Tenant-switch resets that failed in a row for this session; a few are retried on other connections. */
    private int failedResets;
    /** The tracked settings this client's session should have, in the server's spelling of their values. */
    private final DesiredSettings desiredSettings = new DesiredSettings();
    private int[] cancelKey;
    /** Renames named prepared statements for the backends; null when PoolSettings.MaxPreparedStatements is 0. */
    private PreparedStatementRouter preparedStatements;
    /** Idle, idle-in-transaction and query timeouts; checked by {@link ClientRegistry}'s sweep. */
    private final ClientTimeouts timeouts = new ClientTimeouts();
    /** The login and logout log lines, and the counts the logout line reports. */
    private final SessionLog sessionLog = new SessionLog();
    /** Keeps the client's unnamed statement alive across Sync groups and backends. */
    private UnnamedStatement unnamedStatement;
    /** Where this session's transactions, queries and bytes are counted; resolved once, at login. */
    private ProxyEvents.Tenant traffic = ProxyEvents.Tenant.NONE;
    /** When the backend of the transaction in progress was leased. */
    private long leasedNanos;

    /** The session's number, for the console (SHOW CLIENTS' ptr, KILL_CLIENT). */
    private final long id = NEXT_ID.incrementAndGet();
    private final long connectedNanos = System.nanoTime();
    /** When the current (or last) transaction began, and when this session started waiting for a backend. */
    private long requestNanos = connectedNanos;

    public ClientSession(SessionServices services) {
        this.services = services;
    }

    // ---- Netty callbacks -------------------------------------------------------------------------------------

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        login = new ClientLogin(this, services, channel);
        services.clients().add(this);
        unnamedStatement = new UnnamedStatement(channel.alloc());
        long millis = services.loginTimeout().toMillis();
        loginTimeout = channel.eventLoop().schedule(() -> {
            services.events().timeout(ProxyEvents.Timeout.LOGIN);
            fail(new PgException("08P01", "login did not complete within " + services.loginTimeout().toSeconds()
                    + " s (ClientSettings.LoginTimeoutSecs)"));
        }, millis, TimeUnit.MILLISECONDS);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof StartupPacket packet) {
            onStartupPacket(packet);
            return;
        }
        PgMessage message = (PgMessage) msg;
        timeouts.onClientMessage(System.nanoTime());
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
            case IDLE -> {
                if (preparedStatements == null || !preparedStatements.answerWithoutBackend(message, channel)) {
                    startTransaction(message);
                }
            }
            // A client may pipeline its first query behind the password; it runs once the login completes.
            case AUTHENTICATING, PROBING, WAITING -> queued.add(message);
            case ACTIVE -> forward(message);
            default -> message.release(); // STARTUP cannot get here; CLOSED expects nothing
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (state == State.ACTIVE) {
            backend.flush();
            channel.flush(); // replies the proxy made up itself (ParseComplete, CloseComplete)
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (state == State.ACTIVE) {
            // A client that reads slowly must not make the proxy buffer a whole result: stop reading the backend.
            backend.channel().config().setAutoRead(channel.isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        state = State.CLOSED;
        services.clients().remove(this);
        login.leave();
        sessionLog.loggedOut(startup(), channel.remoteAddress());
        sessionLog.reportBytes(traffic);
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
        }
        if (cancelKey != null) {
            services.cancelKeys().unregister(cancelKey[0], cancelKey[1]);
        }
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
        if (pendingAcquire != null) {
            pendingAcquire.cancel(false);
        }
        if (backend != null) {
            // Whatever the client left on its backend (a transaction, a COPY, a running query) is undone there.
            BackendConnection abandoned = backend;
            backend = null;
            abandoned.abandon(services.cancelSender(), services.cleanupTimeout().toMillis());
        }
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
            loginTimeout.cancel(false);
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

    void cancelLoginTimeout() {
        loginTimeout.cancel(false);
    }

    /** The login chose its pool: transactions lease from it (until a route change), statements are renamed for it. */
    void routed(BackendPool loginPool, String searchPathSql) {
        pool = loginPool;
        if (pool.settings().maxPreparedStatements() > 0) {
            preparedStatements = new PreparedStatementRouter(searchPathSql, () -> pool, channel.alloc());
        }
    }

    /** The probe lease: the session holds it like a transaction's backend, so loss and cleanup treat it alike. */
    void hold(BackendConnection leased) {
        backend = leased;
    }

    BackendConnection backend() {
        return backend;
    }

    BackendConnection takeBackend() {
        BackendConnection held = backend;
        backend = null;
        return held;
    }

    /** The login succeeded: the session's traffic handle and cancel key; returns the key for BackendKeyData. */
    int[] loggedIn(TenantRoute route) {
        traffic = services.events().tenant(route.database(), route.schema());
        cancelKey = services.cancelKeys().register(this);
        return cancelKey;
    }

    /** ReadyForQuery was sent: run what the client pipelined behind its login, or start reading it again. */
    void startPooling() {
        state = State.IDLE;
        PgMessage pipelined = queued.poll();
        if (pipelined != null) {
            startTransaction(pipelined); // the rest of the queue follows it
        } else {
            channel.config().setAutoRead(true);
        }
    }

    // ---- transaction pooling ---------------------------------------------------------------------------------

    private void startTransaction(PgMessage first) {
        if (first.tag() == FrontendTag.TERMINATE) {
            first.release();
            state = State.CLOSED;
            channel.close();
            return;
        }
        if (services.clients().draining()) {
            first.release();
            fail(ClientRegistry.shuttingDown());
            return;
        }
        queued.addFirst(first);
        requestNanos = System.nanoTime();
        state = State.WAITING;
        pool = services.pools().routes().poolFor(login.route()); // a changed route (account switch) applies from here
        acquireForTransaction();
        if (state == State.WAITING) {
            // Only a client that has to wait stops being read. Pausing a client whose lease was served at once
            // would cost two epoll_ctl system calls per transaction for nothing.
            channel.config().setAutoRead(false);
        }
    }

    private void acquireForTransaction() {
        acquire(leased -> {
            backend = leased;
            leasedNanos = System.nanoTime();
            if (backend.lease(this, login.tenant(), login.searchPathSql(), desiredSettings.values(),
                    pool.settings().schemaExecTimeout())) {
                startForwarding();
            } // else the backend changes tenant first: onLeaseReady (or onLeaseRetry) follows
        });
    }

    /** The leased backend is ready for this tenant: send what the client queued meanwhile, then pass through. */
    private void startForwarding() {
        failedResets = 0;
        state = State.ACTIVE;
        PgMessage message;
        while ((message = queued.poll()) != null) {
            forward(message);
        }
        backend.flush();
        channel.flush();
        channel.config().setAutoRead(backend.channel().isWritable());
    }

    private void forward(PgMessage message) {
        if (message.tag() == FrontendTag.TERMINATE) {
            message.release();
            channel.close(); // channelInactive hands the backend over for cleanup
            return;
        }
        timeouts.beforeForward(backend, System.nanoTime());
        if (unnamedStatement.forward(message, backend)) {
            return;
        }
        if (preparedStatements != null) {
            preparedStatements.forward(message, backend);
        } else {
            backend.sendFromClient(message);
        }
    }

    void acquire(java.util.function.Consumer<BackendConnection> onLeased) {
        Future<BackendConnection> acquiring = pool.acquire(login.tenant());
        pendingAcquire = acquiring;
        acquiring.addListener(f -> {
            pendingAcquire = null;
            if (f.isCancelled()) {
                return;
            }
            if (!f.isSuccess()) {
                fail(asClientError(f.cause()));
                return;
            }
            BackendConnection leased = (BackendConnection) f.getNow();
            if (state == State.CLOSED) {
                pool.release(leased); // nothing was sent on it
                return;
            }
            onLeased.accept(leased);
        });
    }

    /** A CancelRequest named this session: cancel its running query on the backend it leases, if any. */
    void cancelRunningQuery() {
        if (state == State.ACTIVE && backend != null && backend.hasClientWorkInFlight()) {
            services.cancelSender().cancel(backend);
        }
    }

    // ---- backend events --------------------------------------------------------------------------------------

    @Override
    public void onBackendMessage(PgMessage message) {
        if (message.tag() == BackendTag.PARAMETER_STATUS) {
            String[] nameValue = MessageReader.parameterStatus(message);
            desiredSettings.reported(nameValue[0], nameValue[1]); // the client changed its own session
        } else if (preparedStatements != null) {
            preparedStatements.onBackendMessage(message);
        }
        sessionLog.toClient(message.frame().readableBytes());
        long now = System.nanoTime();
        if (message.tag() == BackendTag.READY_FOR_QUERY) {
            traffic.query(timeouts.queryNanos(now)); // once per query, not per message
        }
        // A failed write reaches exceptionCaught: no promise per forwarded message.
        channel.write(timeouts.onBackendMessage(message, channel.alloc(), now), channel.voidPromise());
    }

    @Override
    public void onSettingsLearned(Map<String, String> values) {
        desiredSettings.learned(values);
    }

    @Override
    public void onBackendReadComplete() {
        channel.flush();
    }

    @Override
    public void onBackendIdle() {
        if (state == State.PROBING) {
            login.finishProbe();
        } else if (state == State.ACTIVE) {
            channel.flush(); // the backend's read-complete will no longer reach this session
            BackendConnection done = backend;
            backend = null;
            state = State.IDLE;
            channel.config().setAutoRead(true);
            pool.release(done);
            sessionLog.transactionEnded();
            traffic.transaction(System.nanoTime() - leasedNanos);
            sessionLog.reportBytes(traffic);
            if (services.clients().draining()) {
                fail(ClientRegistry.shuttingDown()); // its transaction is over: the drain closes it now
            }
        }
    }

    @Override
    public void onLeaseReady() {
        if (state == State.WAITING && backend != null) {
            startForwarding();
        }
    }

    @Override
    public void onLeaseRetry() {
        BackendConnection broken = backend;
        backend = null;
        if (broken != null) {
            pool.release(broken); // already closed; the pool only counts the lease back
        }
        if (++failedResets > MAX_FAILED_RESETS) {
            fail(new PgException("08006", "the proxy could not prepare a server connection for your tenant ("
                    + failedResets + " attempts); see the proxy log, then reconnect and retry"));
            return;
        }
        log.info("a tenant-switch reset failed; leasing another connection (attempt {})", failedResets + 1);
        if (state == State.WAITING) {
            acquireForTransaction();
        } else if (state == State.PROBING) {
            login.acquireProbe();
        }
    }

    @Override
    public void onLeaseSetupFailed(PgException error) {
        if (!error.fatal()) {
            if (state == State.PROBING) {
                login.probeFailed(error); // refused once the probe has settled
            }
            return;
        }
        // The tenant's search_path could not be set: nothing may run on this backend for this client.
        BackendConnection broken = backend;
        backend = null;
        state = State.CLOSED;
        if (broken != null) {
            broken.close();
            pool.release(broken);
        }
        fail(new PgException("08006", "the proxy could not point the server connection at your schema;"
                + " reconnect and retry"));
    }

    @Override
    public void onBackendLost() {
        BackendConnection lost = backend;
        backend = null;
        if (lost != null) {
            pool.release(lost);
        }
        fail(new PgException("08006", "the connection to the database server was lost; an open transaction was"
                + " rolled back - reconnect and retry"));
    }

    @Override
    public void onBackendWritabilityChanged(boolean writable) {
        if (state == State.ACTIVE) {
            channel.config().setAutoRead(writable);
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
        return backendListener == this;
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
            if (timeouts.check(nowNanos, settings, state == State.IDLE, state == State.ACTIVE ? backend : null,
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
        if (closeBackend && backend != null) {
            // Mid-transaction: it cannot serve anyone else; closing it makes the server roll back.
            BackendConnection held = backend;
            backend = null;
            held.close();
            pool.release(held);
        }
        fail(error);
    }

    /**
     * The shutdown has begun: a client between transactions, or not yet logged in, or still waiting for its first
     * backend (nothing of its transaction has run), is closed with 57P01 now. One inside a transaction finishes it
     * ({@link #onBackendIdle}); one whose password is being checked is refused when the check completes.
     */
    void onDrain() {
        if (state == State.STARTUP || state == State.PASSWORD || state == State.IDLE
                || (state == State.WAITING && backend == null)) {
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
        return backend != null || state == State.AUTHENTICATING || state == State.PROBING || state == State.WAITING;
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
