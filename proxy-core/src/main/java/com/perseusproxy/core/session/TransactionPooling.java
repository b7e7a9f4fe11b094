package com.perseusproxy.core.session;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendListener;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.net.AutoRead;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.statements.StatementForwarding;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Future;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Transaction pooling for one {@link ClientSession}: the backend it holds, from the pool's acquire to the release
 * that ends the transaction, and the client's traffic both ways meanwhile.
 *
 * <pre>
 *  IDLE ── first message ──► WAITING (queued; still read, paused only past a bound of queued messages/bytes)
 *  WAITING ── leased, tenant ready ──► ACTIVE (queued messages sent, one flush)
 *  ACTIVE ── ReadyForQuery 'I', nothing owed (onBackendIdle) ──► IDLE (pool.release)
 * </pre>
 *
 * Every way a held backend is given back runs through here: the end of a transaction, a failed tenant-switch reset
 * (another is leased, at most {@link #MAX_FAILED_RESETS} times), a failed search_path (closed), a lost backend, a
 * timeout that closes it, and a client that leaves (the backend cleans up after it). The login's probe lease is held
 * here too, so loss and cleanup treat it alike. It is this session's {@link BackendListener}. The session keeps the
 * state machine, the client's socket and its error path; all of this runs on the client channel's event loop.
 */
final class TransactionPooling implements BackendListener {

    private static final Logger log = LoggerFactory.getLogger(TransactionPooling.class);
    /** A reset that fails again and again points at the server, not at one broken connection. */
    private static final int MAX_FAILED_RESETS = 3;

    private final ClientSession session;
    private final SessionServices services;
    private final Channel channel;
    private final ClientLogin login;
    private final ClientTimeouts timeouts;
    private final SessionLog sessionLog;
    private final DesiredSettings desiredSettings;
    /** The client's messages that wait for a backend (or, pipelined behind the password, for the login). */
    private final WaitingMessages queued;
    /** The unnamed statement kept alive across backends, named ones renamed for them. */
    private final StatementForwarding statements;
    private BackendPool pool;
    /** TenantRoutes.moves() when {@link #pool} was last looked up (-1: never). */
    private long routeMovesSeen = -1;
    private BackendConnection backend;
    private Future<BackendConnection> pendingAcquire;
    /** Tenant-switch resets that failed in a row for this session; a few are retried on other connections. */
    private int failedResets;
    /** Where this session's transactions, queries and bytes are counted; resolved once, at login. */
    private ProxyEvents.Tenant traffic = ProxyEvents.Tenant.NONE;
    /** When the backend of the transaction in progress was leased. */
    private long leasedNanos;
    /** When the current (or last) transaction began, and so when this session started waiting for a backend. */
    private long requestNanos;

    TransactionPooling(ClientSession session, SessionServices services, Channel channel, ClientLogin login,
                       ClientTimeouts timeouts, SessionLog sessionLog, DesiredSettings desiredSettings,
                       long connectedNanos) {
        this.session = session;
        this.services = services;
        this.channel = channel;
        this.login = login;
        this.timeouts = timeouts;
        this.sessionLog = sessionLog;
        this.desiredSettings = desiredSettings;
        this.queued = new WaitingMessages(channel);
        this.statements = new StatementForwarding(channel.alloc());
        this.requestNanos = connectedNanos;
    }

    // ---- set up by the login ---------------------------------------------------------------------------------

    /** The login chose its pool: transactions lease from it (until a route change), statements are renamed for it. */
    void routed(BackendPool loginPool, String searchPathSql) {
        pool = loginPool;
        statements.routed(loginPool, () -> pool, searchPathSql);
    }

    void countAs(ProxyEvents.Tenant tenantTraffic) {
        traffic = tenantTraffic;
    }

    /** ReadyForQuery was sent: run what the client pipelined behind its login, or start reading it again. */
    void startPooling() {
        session.enter(ClientSession.State.IDLE);
        PgMessage pipelined = queued.poll();
        if (pipelined != null) {
            startTransaction(pipelined, System.nanoTime()); // the rest of the queue follows it
        } else {
            AutoRead.set(channel, true);
        }
    }

    // ---- the client's messages -------------------------------------------------------------------------------

    /** A message that must wait: for the login to complete, or for a backend. */
    void queue(PgMessage message) {
        queued.add(message, session.state() == ClientSession.State.WAITING);
    }

    /**
     * A message between transactions: answered by the proxy if it can, else it starts a transaction.
     *
     * @param readNanos when the client's read that brought it began (ClientSession)
     */
    void onIdleMessage(PgMessage message, long readNanos) {
        if (!statements.answerWithoutBackend(message, channel)) {
            startTransaction(message, readNanos);
        }
    }

    private void startTransaction(PgMessage first, long nowNanos) {
        if (first.tag() == FrontendTag.TERMINATE) {
            first.release();
            session.enter(ClientSession.State.CLOSED);
            channel.close();
            return;
        }
        if (services.clients().draining()) {
            first.release();
            session.fail(ClientRegistry.shuttingDown());
            return;
        }
        requestNanos = nowNanos;
        session.enter(ClientSession.State.WAITING);
        queued.waitBegins(first); // the rest of the login's pipelined queue, if any, follows it unread (ClientLogin)
        long routeMoves = services.pools().routes().moves();
        if (routeMoves != routeMovesSeen) { // a changed route (account switch) applies from here
            pool = services.pools().routes().poolFor(login.route());
            routeMovesSeen = routeMoves;
        }
        acquireForTransaction();
        // A client that has to wait is still read, up to a bound (WaitingMessages).
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
        session.enter(ClientSession.State.ACTIVE);
        PgMessage message;
        long now = System.nanoTime();
        while ((message = queued.poll()) != null) {
            forward(message, now);
        }
        backend.flush();
        channel.flush();
        AutoRead.set(channel, backend.channel().isWritable());
    }

    /**
     * A client message while ACTIVE: to the leased backend, through the statement bookkeeping.
     *
     * @param nowNanos now, give or take the microseconds of one read's messages (the query clock starts here)
     */
    void forward(PgMessage message, long nowNanos) {
        if (message.tag() == FrontendTag.TERMINATE) {
            message.release();
            channel.close(); // channelInactive hands the backend over for cleanup
            return;
        }
        timeouts.beforeForward(backend, nowNanos);
        statements.forward(message, backend);
    }

    /** Asks the pool for a backend for this tenant; {@code onLeased} runs on the loop unless the session closed. */
    void acquire(Consumer<BackendConnection> onLeased) {
        Future<BackendConnection> acquiring = pool.acquire(login.tenant());
        pendingAcquire = acquiring;
        acquiring.addListener(f -> {
            pendingAcquire = null;
            if (f.isCancelled()) {
                return;
            }
            if (!f.isSuccess()) {
                session.fail(session.asClientError(f.cause()));
                return;
            }
            BackendConnection leased = (BackendConnection) f.getNow();
            if (session.state() == ClientSession.State.CLOSED) {
                pool.release(leased); // nothing was sent on it
                return;
            }
            onLeased.accept(leased);
        });
    }

    // ---- the held backend ------------------------------------------------------------------------------------

    /** The probe lease: held like a transaction's backend, so loss and cleanup treat it alike. */
    void hold(BackendConnection leased) {
        backend = leased;
    }

    /** The backend held now (a transaction's, or the login's probe), or null. */
    BackendConnection backend() {
        return backend;
    }

    /** Stops holding the backend (the probe is done) and returns it; the caller releases it. */
    BackendConnection takeBackend() {
        BackendConnection held = backend;
        backend = null;
        return held;
    }

    /** A timeout fired mid-transaction: the backend cannot serve anyone else; closing it makes the server roll back. */
    void closeBackend() {
        BackendConnection held = takeBackend();
        if (held != null) {
            held.close();
            pool.release(held);
        }
    }

    /** The client is gone: drop what it queued, stop waiting for a backend, and undo whatever it left on one. */
    void clientLeft() {
        queued.releaseAll();
        if (pendingAcquire != null) {
            pendingAcquire.cancel(false);
        }
        BackendConnection abandoned = takeBackend();
        if (abandoned != null) {
            // Whatever the client left on its backend (a transaction, a COPY, a running query) is undone there.
            abandoned.abandon(services.cancelSender(), services.cleanupTimeout().toMillis());
        }
    }

    // ---- facts for the console, the logout line and the metrics ----------------------------------------

    BackendPool pool() {
        return pool;
    }

    long requestNanos() {
        return requestNanos;
    }

    /** The logout line's and the metrics' byte counts: the tenant's, and the pool's (SHOW STATS). */
    void reportBytes() {
        sessionLog.reportBytes(traffic, pool == null ? ProxyEvents.Tenant.NONE : pool.stats().traffic());
    }

    // ---- backend events --------------------------------------------------------------------------------------

    @Override
    public void onBackendMessage(PgMessage message) {
        if (message.tag() == BackendTag.PARAMETER_STATUS) {
            String[] nameValue = MessageReader.parameterStatus(message);
            desiredSettings.reported(nameValue[0], nameValue[1]); // the client changed its own session
        } else {
            statements.onBackendMessage(message);
        }
        sessionLog.toClient(message.frame().readableBytes());
        long now = System.nanoTime();
        if (message.tag() == BackendTag.READY_FOR_QUERY) {
            long queryNanos = timeouts.queryNanos(now); // once per query, not per message
            traffic.query(queryNanos);
            pool.stats().traffic().query(queryNanos);
        }
        // A failed write reaches exceptionCaught: no promise per forwarded message.
        channel.write(timeouts.onBackendMessage(message, channel.alloc(), now), channel.voidPromise());
    }

    @Override
    public void onBackendRun(ByteBuf run, boolean endsWithReady) {
        // What onBackendMessage does, for messages that need none of its per-message work (see ReplyRuns).
        sessionLog.toClient(run.readableBytes());
        long now = System.nanoTime();
        if (endsWithReady) {
            long queryNanos = timeouts.queryNanos(now);
            traffic.query(queryNanos);
            pool.stats().traffic().query(queryNanos);
        }
        timeouts.onBackendRun(endsWithReady, now);
        channel.write(run, channel.voidPromise());
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
        ClientSession.State state = session.state();
        if (state == ClientSession.State.PROBING) {
            login.finishProbe();
        } else if (state == ClientSession.State.ACTIVE) {
            channel.flush(); // the backend's read-complete will no longer reach this session
            BackendConnection done = takeBackend();
            session.enter(ClientSession.State.IDLE);
            AutoRead.set(channel, true);
            pool.release(done);
            sessionLog.transactionEnded();
            long leaseNanos = System.nanoTime() - leasedNanos;
            traffic.transaction(leaseNanos);
            pool.stats().traffic().transaction(leaseNanos);
            reportBytes();
            if (services.clients().draining()) {
                session.fail(ClientRegistry.shuttingDown()); // its transaction is over: the drain closes it now
            }
        }
    }

    @Override
    public void onLeaseReady() {
        if (session.state() == ClientSession.State.WAITING && backend != null) {
            startForwarding();
        }
    }

    @Override
    public void onLeaseRetry() {
        BackendConnection broken = takeBackend();
        if (broken != null) {
            pool.release(broken); // already closed; the pool only counts the lease back
        }
        if (++failedResets > MAX_FAILED_RESETS) {
            session.fail(new PgException("08006", "the proxy could not prepare a server connection for your tenant ("
                    + failedResets + " attempts); see the proxy log, then reconnect and retry"));
            return;
        }
        log.info("a tenant-switch reset failed; leasing another connection (attempt {})", failedResets + 1);
        if (session.state() == ClientSession.State.WAITING) {
            acquireForTransaction();
        } else if (session.state() == ClientSession.State.PROBING) {
            login.acquireProbe();
        }
    }

    @Override
    public void onLeaseSetupFailed(PgException error) {
        if (!error.fatal()) {
            if (session.state() == ClientSession.State.PROBING) {
                login.probeFailed(error); // refused once the probe has settled
            }
            return;
        }
        // The tenant's search_path could not be set: nothing may run on this backend for this client.
        BackendConnection broken = takeBackend();
        session.enter(ClientSession.State.CLOSED);
        if (broken != null) {
            broken.close();
            pool.release(broken);
        }
        session.fail(new PgException("08006", "the proxy could not point the server connection at your schema;"
                + " reconnect and retry"));
    }

    @Override
    public void onBackendLost() {
        BackendConnection lost = takeBackend();
        if (lost != null) {
            pool.release(lost);
        }
        session.fail(new PgException("08006", "the connection to the database server was lost; an open transaction"
                + " was rolled back - reconnect and retry"));
    }

    @Override
    public void onBackendWritabilityChanged(boolean writable) {
        if (session.state() == ClientSession.State.ACTIVE) {
            AutoRead.set(channel, writable);
        }
    }
}
