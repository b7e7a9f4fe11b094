package com.perseusproxy.core.backend;

import com.perseusproxy.core.statements.BackendStatements;
import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.ClientMessages;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection from the proxy to a PostgreSQL server, and the bookkeeping that tells when it is free again.
 *
 * <p>The connection knows what it owes: how many ReadyForQuery messages are still due for statements the proxy
 * injected itself at lease start (swallowed, never forwarded), and, in its {@link ReplyQueue}, the replies due for
 * every message sent during the lease (the client's, possibly renamed, and the proxy's own re-Parses and Closes of
 * prepared statements). It is free when nothing is owed, the client has no unfinished extended-protocol group open,
 * and the last ReadyForQuery said idle. All methods run on the channel's event loop.
 */
public final class BackendConnection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    /**
     * Lifecycle of the connection. Only the pool moves a connection out of LEASED, CANCEL_HOLD or CLEANING back to
     * IDLE (through {@link ConnectionOwner#release}).
     */
    enum State {
        /** TCP connected, login handshake running. */
        LOGGING_IN,
        /** Logged in and owned by the pool: free to lease. */
        IDLE,
        /** Leased to one client session; its messages flow. */
        LEASED,
        /** The lease ended while a cancel for its client was in flight: held out of the pool until delivered. */
        CANCEL_HOLD,
        /** Its client left mid-transaction; the proxy is rolling it back before it may serve anyone else. */
        CLEANING,
        /** Closed; never to be used again. */
        CLOSED
    }

    private final Destination destination;
    private final BackendCredentials credentials;
    private final ConnectionOwner owner;
    private final Promise<BackendConnection> loginPromise;
    private final BackendLogin login;
    private final long createdAtNanos = System.nanoTime();
    private final long lifetimeNanos;
    private final ServerSessionState session = new ServerSessionState();
    /** What the session owes (the proxy's statements, the client's replies) and its protocol state. */
    private final BackendLedger ledger = new BackendLedger(this::deliver);
    /** The proxy-named prepared statements this session holds. */
    private final BackendStatements statements = new BackendStatements();

    private Channel channel;
    private State state = State.LOGGING_IN;
    /** The tenant this session last served (null: none yet); see {@link SessionReset} for why it matters. */
    private TenantKey lastTenant;
    /** The last tenant may have changed its own search_path or settings (a SET tag): re-send them next lease. */
    private boolean tenantStateUncertain;
    /** Learns the client's own changes of unreported tracked settings before its lease ends. */
    private final SettingsLearner learner = new SettingsLearner();
    /** The client's last ReadyForQuery, held while the learner's question is answered; null when none is. */
    private PgMessage heldReady;
    /** The reset counted statements made with SQL PREPARE: they are deallocated before the lease goes on. */
    private boolean sqlPreparedLeft;
    /** A tenant-switch reset is in flight: the client's messages wait for {@link BackendListener#onLeaseReady}. */
    private boolean awaitingReady;
    private BackendListener listener;
    private int cancelsInFlight;
    private boolean releaseAfterCancel;
    private long idleSinceNanos = System.nanoTime();
    private ScheduledFuture<?> cleanupDeadline;
    /** Bounds the per-lease statements by SchemaExecTimeoutSecs. */
    private ScheduledFuture<?> setupDeadline;
    /** The liveness check before hand-out (PoolSettings.ServerCheckDelaySecs). */
    private final LivenessCheck liveness = new LivenessCheck(this);

    BackendConnection(Destination destination, BackendCredentials credentials, ConnectionOwner owner,
                      Promise<BackendConnection> loginPromise, long lifetimeNanos) {
        this.destination = destination;
        this.credentials = credentials;
        this.owner = owner;
        this.loginPromise = loginPromise;
        this.lifetimeNanos = lifetimeNanos;
        this.login = new BackendLogin(destination, credentials, session.loginParameters());
    }

    // ---- facts for the pool ---------------------------------------------------------------------------------

    public Destination destination() {
        return destination;
    }

    public BackendCredentials credentials() {
        return credentials;
    }

    public Channel channel() {
        return channel;
    }

    public boolean isUsable() {
        return state == State.IDLE && channel.isActive();
    }

    /** Whether MaxLifetime (with this connection's jitter) has passed. */
    public boolean isExpired(long nowNanos) {
        return lifetimeNanos > 0 && nowNanos - createdAtNanos >= lifetimeNanos;
    }

    public long idleSinceNanos() {
        return idleSinceNanos;
    }

    public void markIdle(long nowNanos) {
        idleSinceNanos = nowNanos;
    }

    public int processId() {
        return login.processId();
    }

    public int secretKey() {
        return login.secretKey();
    }

    /** Server parameters reported at login (server_version, server_encoding, TimeZone, ...). */
    public Map<String, String> loginParameters() {
        return session.loginParameters();
    }

    /** The current values of the tracked settings on this session, as last reported or set. */
    public Map<String, String> currentSettings() {
        return session.currentSettings();
    }

    /** Whether a query of the leasing client may be running (a cancel would hit it). */
    public boolean hasClientWorkInFlight() {
        return ledger.owesClient();
    }

    /** Whether statements the proxy sent at lease start are still unanswered. */
    public boolean settingUp() {
        return ledger.settingUp();
    }

    /** The tenant this session served last, or null for a fresh session. */
    public TenantKey lastTenant() {
        return lastTenant;
    }

    /** The prepared statements this backend holds under proxy-chosen names. */
    public BackendStatements statements() {
        return statements;
    }

    /** PgBouncer's name for where this connection stands, for the console's SHOW SERVERS (read on the loop). */
    public String consoleState() {
        return switch (state) {
            case LOGGING_IN -> "login";
            case IDLE -> "idle";
            case LEASED -> "active";
            case CANCEL_HOLD -> "being_canceled";
            case CLEANING -> "used";
            case CLOSED -> "closed";
        };
    }

    public long createdAtNanos() {
        return createdAtNanos;
    }

    /** The session leasing this connection now, or null: only for the console's link column. */
    public BackendListener leaseHolder() {
        return state == State.LEASED ? listener : null;
    }

    /**
     * Checks, before the pool hands this idle connection out, that the server still answers: an empty query, which
     * PostgreSQL answers with EmptyQueryResponse and ReadyForQuery without parsing or planning anything (PgBouncer's
     * server_check_query default is also empty). The promise fails if the server answers otherwise, closes, or stays
     * silent for {@code timeout}; the connection is then closed.
     */
    public io.netty.util.concurrent.Future<BackendConnection> checkAlive(Duration timeout) {
        Promise<BackendConnection> result = channel.eventLoop().newPromise();
        if (state != State.IDLE || !channel.isActive() || ledger.settingUp()) {
            result.setFailure(new PgException("08006", "backend " + destination + " is not idle"));
            return result;
        }
        liveness.start(result, timeout, () -> {
            inject(Injected.LIVENESS, "");
            channel.flush();
        });
        return result;
    }

    // ---- leasing ---------------------------------------------------------------------------------------------

    /**
     * Starts a lease for {@code tenant}: sends what {@link LeasePlan} says the session needs first (replies
     * swallowed).
     *
     * @return true if the client's messages may follow at once; false if they must wait for
     *         {@link BackendListener#onLeaseReady}
     */
    public boolean lease(BackendListener newListener, TenantKey tenant, String searchPathSql,
                         Map<String, String> desiredSettings, Duration setupTimeout) {
        if (state != State.IDLE || listener != null) {
            throw new IllegalStateException("backend connection is not free: " + state);
        }
        state = State.LEASED;
        listener = newListener;
        learner.leaseStarted(desiredSettings);
        LeasePlan plan = LeasePlan.decide(session, lastTenant, tenant, tenantStateUncertain, searchPathSql,
                desiredSettings);
        lastTenant = tenant;
        tenantStateUncertain = false;
        if (plan.resetSql() != null) {
            inject(Injected.RESET, plan.resetSql());
        }
        if (plan.searchPathSql() != null) {
            inject(Injected.SEARCH_PATH, plan.searchPathSql());
        }
        if (plan.settingsSql() != null) {
            inject(Injected.SETTINGS, plan.settingsSql());
        }
        if (ledger.settingUp()) {
            // Only a lease that sends something needs a deadline; the common same-tenant lease schedules no timer.
            setupDeadline = channel.eventLoop().schedule(() -> setupTimedOut(setupTimeout), setupTimeout.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        awaitingReady = plan.resetSql() != null;
        channel.config().setAutoRead(true);
        if (awaitingReady) {
            channel.flush();
        }
        return !awaitingReady;
    }

    /** Forwards one client message (ownership passes); its replies will go to the client. */
    public void sendFromClient(PgMessage message) {
        ReplyQueue.Completion completion = ReplyQueue.Completion.of(message.tag());
        sendForClient(message.tag(), message.frame(),
                completion == null ? null : ReplyQueue.Expected.forward(completion, ReplyQueue.Outcome.NONE));
    }

    /**
     * Stands in for one client message of type {@code clientTag}: sends {@code frame} in its place (ownership passes;
     * null when the proxy answers the message itself) and expects {@code reply} (null: the message gets no reply).
     */
    public void sendForClient(char clientTag, ByteBuf frame, ReplyQueue.Expected reply) {
        ledger.clientSends(clientTag);
        if (clientTag == FrontendTag.QUERY) {
            statements.unnamedDropped(); // a simple Query drops the unnamed statement
        }
        if (frame != null) {
            channel.write(frame, channel.voidPromise()); // a failed write reaches exceptionCaught
        }
        if (reply != null) {
            ledger.replies().expect(reply);
        }
    }

    /**
     * Sends an extended-protocol message of the proxy's own (a re-Parse, a Close) among the client's, whose replies
     * are described by {@code reply}.
     */
    public void sendOwn(ByteBuf frame, ReplyQueue.Expected reply) {
        channel.write(frame);
        ledger.replies().expect(reply);
    }

    public void flush() {
        channel.flush();
    }

    /** Ends the lease after {@link BackendListener#onBackendIdle()}: the connection goes back to the pool. */
    public void endLease() {
        listener = null;
        awaitingReady = false;
        if (state == State.LEASED || state == State.CLEANING) {
            state = State.IDLE;
        }
        if (channel != null && state != State.CLOSED) {
            // Backpressure may have paused reads; an idle connection must still notice the server closing it.
            channel.config().setAutoRead(true);
        }
    }

    /**
     * The client vanished while leasing this connection: finish or abort whatever it left (CopyFail for COPY IN, a
     * Sync for an open extended group, ROLLBACK for an open transaction) and only then give it back to the pool. If
     * that does not finish in time, the connection is closed instead.
     */
    public void abandon(CancelSender cancelSender, long deadlineMillis) {
        listener = null;
        if (state != State.LEASED) {
            return;
        }
        state = State.CLEANING;
        awaitingReady = false;
        channel.config().setAutoRead(true);
        if (ledger.copyIn()) {
            channel.write(ClientMessages.copyFail(channel.alloc(), "client disconnected"));
            ledger.copyAbandoned();
        }
        if (ledger.clientGroupOpen()) {
            sendOwn(ClientMessages.sync(), ReplyQueue.Expected.swallow(ReplyQueue.Completion.SYNC_POINT, null,
                    ReplyQueue.Outcome.NONE));
            ledger.groupClosedByProxy();
        }
        channel.flush();
        if (ledger.owesClient()) {
            cancelSender.cancel(this);
        }
        cleanupDeadline = channel.eventLoop().schedule(() -> {
            if (state == State.CLEANING) {
                log.warn("backend {} pid {} did not become idle after its client left; closing it", destination,
                        processId());
                close();
            }
        }, deadlineMillis, TimeUnit.MILLISECONDS);
        continueCleaning();
    }

    // ---- cancel bookkeeping: a backend being cancelled must not be handed to anyone else ----------------------

    void cancelStarted() {
        cancelsInFlight++;
    }

    void cancelFinished() {
        cancelsInFlight--;
        if (cancelsInFlight == 0 && releaseAfterCancel) {
            releaseAfterCancel = false;
            if (state == State.CANCEL_HOLD) {
                state = State.IDLE;
            }
            owner.release(this);
        }
    }

    /** Whether the pool must wait for a cancel in flight before reusing this connection. */
    public boolean holdForCancel() {
        if (cancelsInFlight > 0) {
            releaseAfterCancel = true;
            if (state == State.IDLE) {
                state = State.CANCEL_HOLD;
            }
            return true;
        }
        return false;
    }

    // ---- closing ---------------------------------------------------------------------------------------------

    /** Closes at once (a broken or abandoned connection); the pool hears of it through {@link ConnectionOwner#onClosed}. */
    public void close() {
        close(Duration.ZERO);
    }

    /**
     * Sends Terminate so the server ends the session cleanly, and drops the socket once that is written or the grace
     * period ({@code ConnCloseTimeoutSecs}) is over, whichever comes first.
     */
    public void close(Duration gracePeriod) {
        if (state == State.CLOSED) {
            return;
        }
        state = State.CLOSED;
        if (channel.isActive() && !gracePeriod.isZero()) {
            channel.writeAndFlush(ClientMessages.terminate()).addListener(f -> channel.close());
            channel.eventLoop().schedule(() -> channel.close(), gracePeriod.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            channel.close();
        }
    }

    // ---- Netty callbacks -------------------------------------------------------------------------------------

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Known before channelActive, which a TLS negotiation delays until its handshake is done: a refused
        // negotiation must still be able to close this connection.
        channel = ctx.channel();
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        login.start(channel);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        PgMessage message = (PgMessage) msg;
        try {
            switch (state) {
                case LOGGING_IN -> onLoginMessage(message);
                case IDLE, LEASED, CANCEL_HOLD, CLEANING -> {
                    if (onSessionMessage(message)) {
                        message = null; // handed to the listener
                    }
                }
                case CLOSED -> {
                }
            }
        } finally {
            if (message != null) {
                ReferenceCountUtil.release(message);
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.onBackendReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (listener != null) {
            listener.onBackendWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        State previous = state;
        state = State.CLOSED;
        if (heldReady != null) {
            heldReady.release();
            heldReady = null;
        }
        if (setupDeadline != null) {
            setupDeadline.cancel(false);
        }
        if (cleanupDeadline != null) {
            cleanupDeadline.cancel(false);
        }
        if (previous == State.LOGGING_IN) {
            loginPromise.tryFailure(new PgException("08006", "backend " + destination
                    + " closed the connection during login"));
        }
        if (liveness.inFlight()) {
            liveness.failed("the server closed the connection");
        }
        BackendListener lost = listener;
        listener = null;
        if (lost != null) {
            lost.onBackendLost(); // the session ends its lease
        } else if (previous == State.CLEANING) {
            owner.release(this); // ends the lease its departed client could not end
        }
        owner.onClosed(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (state == State.LOGGING_IN) {
            loginPromise.tryFailure(cause instanceof PgException ? cause : new PgException("08006",
                    "backend login to " + destination + " failed: " + cause.getMessage(), true, cause));
        } else if (state != State.CLOSED) {
            log.warn("backend {} pid {} failed: {}", destination, processId(), cause.toString());
        } // else: an echo of the failure that closed it (a refused TLS handshake raises one)
        close();
    }

    private void onLoginMessage(PgMessage message) {
        if (login.onMessage(channel, message)) {
            session.loggedIn();
            state = State.IDLE;
            if (!loginPromise.trySuccess(this)) {
                close(); // the login timed out meanwhile
            }
        }
    }

    /** @return true if the message was taken over (by the reply queue), false if it is to be released */
    private boolean onSessionMessage(PgMessage message) {
        char tag = message.tag();
        if (tag == BackendTag.PARAMETER_STATUS) {
            String[] nameValue = MessageReader.parameterStatus(message);
            session.observe(nameValue[0], nameValue[1]);
        }
        if (ledger.settingUp()) {
            onInjectedReply(message);
            return false;
        }
        ledger.observe(message);
        if (tag == BackendTag.COMMAND_COMPLETE && mayConcernSession(message)) {
            noteCommand(MessageReader.commandTag(message)); // SELECT, INSERT, ...: no String for the common tags
        }
        BackendListener current = listener;
        if (current != null && state == State.LEASED && ledger.endsLease(message) && askBeforeLastReady(message)) {
            return true; // held until the question is answered
        }
        ledger.replies().onReply(message); // to deliver(), or swallowed
        if (state == State.CLEANING) {
            if (tag == BackendTag.READY_FOR_QUERY) {
                continueCleaning();
            }
        } else if (current != null && tag == BackendTag.READY_FOR_QUERY && ledger.isFree() && listener == current) {
            current.onBackendIdle();
        }
        return true;
    }

    private void noteCommand(String commandTag) {
        if (SessionReset.mayChangeSearchPathOrSettings(commandTag)) {
            tenantStateUncertain = true;
            if (state == State.LEASED) {
                learner.clientChangedSettings();
            }
        }
        if (SessionSettings.dropsPreparedStatements(commandTag)) {
            // Gone, except those that messages sent after this statement are re-creating.
            statements.clear();
            ledger.replies().pendingPreparations().forEach(statements::restore);
        }
    }

    /**
     * A byte test that lets the common command tags pass without making a String of them: only SET, RESET,
     * DISCARD ALL and DEALLOCATE ALL matter to the session bookkeeping below, and only they start with "SET\0", R
     * or D among the tags this test lets through.
     */
    private static boolean mayConcernSession(PgMessage commandComplete) {
        ByteBuf frame = commandComplete.frame();
        int at = commandComplete.payloadIndex();
        byte first = frame.getByte(at);
        return first == 'R' || first == 'D' || (first == 'S' && commandComplete.payloadLength() == 4
                && frame.getByte(at + 1) == 'E' && frame.getByte(at + 2) == 'T');
    }

    /**
     * The ReadyForQuery that would end the lease has come: if the client changed its settings, ask for them first
     * ({@link SettingsLearner}) and hold this ReadyForQuery back until the answer is in. Holding it keeps the lease
     * boundary where the client sees it: a client that waits for ReadyForQuery starts its next transaction on a new
     * lease, which repairs a search_path its SET changed, exactly as without the question.
     *
     * @return true if the question was sent and {@code ready} is held
     */
    private boolean askBeforeLastReady(PgMessage ready) {
        String question = learner.question();
        if (question == null) {
            return false;
        }
        inject(Injected.LEARN, question);
        channel.flush();
        heldReady = ready;
        return true;
    }

    /** Where the reply queue sends what is for the client: the leasing session, if any (else dropped). */
    private void deliver(PgMessage message) {
        BackendListener current = state == State.LEASED ? listener : null;
        if (current == null) {
            // No client (cleaning up after one that left, or an asynchronous NOTICE or NOTIFY between leases).
            message.release();
            return;
        }
        current.onBackendMessage(message);
    }

    private void onInjectedReply(PgMessage message) {
        Injected kind = ledger.pendingInjected();
        if (message.tag() == BackendTag.DATA_ROW && kind == Injected.RESET) {
            sqlPreparedLeft |= SessionReset.sqlPreparedLeft(message);
        } else if (message.tag() == BackendTag.DATA_ROW && kind == Injected.LEARN) {
            Map<String, String> learned = learner.answer(message, session);
            if (listener != null) {
                listener.onSettingsLearned(learned);
            }
        } else if (message.tag() == BackendTag.ERROR_RESPONSE) {
            Map<Character, String> fields = MessageReader.errorFields(message);
            String text = kind + " statement failed on backend " + destination + ": " + fields.get('M');
            if (kind == Injected.LIVENESS) {
                liveness.failed(fields.get('M'));
                return;
            }
            log.warn(text);
            if (kind == Injected.SETTINGS || kind == Injected.LEARN) {
                session.markDirty(); // the settings were rolled back: reset to known values next lease
            }
            if (kind == Injected.RESET) {
                // The session is in a state nobody knows: it serves no one. The client's messages have not been
                // sent yet (they wait for the reset), so it simply gets another connection.
                BackendListener waiting = listener;
                listener = null;
                close();
                if (waiting != null) {
                    waiting.onLeaseRetry();
                }
                return;
            }
            if (listener != null) {
                listener.onLeaseSetupFailed(new PgException(fields.getOrDefault('C', "XX000"), text,
                        kind == Injected.SEARCH_PATH || kind == Injected.RESET, null));
            }
        } else if (message.tag() == BackendTag.READY_FOR_QUERY) {
            Injected answered = ledger.injectedAnswered(message);
            if (answered == Injected.LIVENESS) {
                liveness.answered();
                return;
            }
            if (answered == Injected.RESET && sqlPreparedLeft) {
                // The previous tenant left SQL-prepared statements: deallocate them before this tenant's first
                // message, which still waits (a failure here is a failed reset like any other).
                sqlPreparedLeft = false;
                inject(Injected.RESET, SessionReset.DEALLOCATE_SQL_PREPARED);
                channel.flush();
                return;
            }
            if (heldReady != null && !ledger.settingUp()) {
                PgMessage held = heldReady;
                heldReady = null;
                ledger.replies().onReply(held); // the client's own, answered now; the checks below may end the lease
            }
            if (!ledger.settingUp() && setupDeadline != null) {
                setupDeadline.cancel(false);
                setupDeadline = null;
            }
            if (state == State.CLEANING) {
                continueCleaning();
                return;
            }
            if (!ledger.settingUp() && awaitingReady && listener != null) {
                awaitingReady = false;
                listener.onLeaseReady(); // the client's messages may follow now
            }
            if (listener != null && ledger.isFree()) {
                listener.onBackendIdle(); // a lease with no client traffic yet (the login probe)
            }
        }
    }

    private void setupTimedOut(Duration timeout) {
        setupDeadline = null;
        if (!ledger.settingUp() || state != State.LEASED) {
            return;
        }
        String text = "backend " + destination + " pid " + processId() + " did not confirm the tenant's search_path"
                + " within " + timeout.toSeconds() + " s (PoolSettings.SchemaExecTimeoutSecs)";
        log.warn(text);
        if (listener != null) {
            listener.onLeaseSetupFailed(new PgException("08006", text, true, null));
        } else {
            close();
        }
    }

    private void inject(Injected kind, String sql) {
        ledger.injected(kind);
        statements.unnamedDropped(); // a simple Query: PostgreSQL drops the unnamed statement
        channel.write(ClientMessages.query(channel.alloc(), sql));
    }

    private void continueCleaning() {
        if (ledger.settingUp() || ledger.owesClient()) {
            return;
        }
        if (ledger.inTransaction()) {
            inject(Injected.ROLLBACK, "ROLLBACK");
            channel.flush();
            return;
        }
        if (cleanupDeadline != null) {
            cleanupDeadline.cancel(false);
            cleanupDeadline = null;
        }
        owner.release(this);
    }
}
