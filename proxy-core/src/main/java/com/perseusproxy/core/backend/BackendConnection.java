package com.perseusproxy.core.backend;

import com.perseusproxy.core.net.AutoRead;
import com.perseusproxy.core.protocol.ClientMessages;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.statements.BackendStatements;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.concurrent.Promise;
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
 *
 * <p>This class is the connection as the pool and the client sessions use it: its {@link LeaseState}, the lease
 * (start, the client's messages, end, abandon, close) and the facts the pool decides by. Every message from the
 * server comes in through {@link BackendReader}, the channel's handler. The statements the proxy sends on its own
 * and the judging of their replies are {@link InjectedStatements}'; what keeps a connection out of the pool after its
 * lease (a cancel in flight, a departed client's leftovers) is {@link ReleaseHold}'s; what the client's SET and
 * DISCARD tags change is {@link CommandTagEffects}'; the login is {@link BackendLogin}'s and the check before
 * hand-out {@link LivenessCheck}'s.
 */
public final class BackendConnection {

    private static final Logger log = LoggerFactory.getLogger(BackendConnection.class);

    private final Destination destination;
    private final BackendCredentials credentials;
    private final ConnectionOwner owner;
    private final BackendLogin login;
    /** The channel's handler: every message from the server comes in through it. */
    private final BackendReader reader;
    private final long createdAtNanos = System.nanoTime();
    private final long lifetimeNanos;
    private final ServerSessionState session = new ServerSessionState();
    /** What the session owes (the proxy's statements, the client's replies) and its protocol state. */
    private final BackendLedger ledger = new BackendLedger(message -> reader().deliver(message));
    /** The proxy-named prepared statements this session holds. */
    private final BackendStatements statements = new BackendStatements();

    /** Learns the client's own changes of unreported tracked settings before its lease ends. */
    private final SettingsLearner learner = new SettingsLearner();
    /** The liveness check before hand-out (PoolSettings.ServerCheckDelaySecs). */
    private final LivenessCheck liveness = new LivenessCheck(this);
    /** The proxy's own statements on this session and what their replies mean. */
    private final InjectedStatements injected = new InjectedStatements(this, ledger, session, statements, learner,
            liveness);
    /** Keeps the connection out of the pool after a lease while a cancel or a departed client's work is unfinished. */
    private final ReleaseHold hold = new ReleaseHold(this, ledger, injected);
    /** What the client's SET, RESET, DISCARD ALL and DEALLOCATE ALL tags change in the bookkeeping. */
    private final CommandTagEffects tagEffects = new CommandTagEffects(learner, statements, ledger.replies());

    private Channel channel;
    private LeaseState state = LeaseState.LOGGING_IN;
    /** The tenant this session last served (null: none yet); see {@link SessionReset} for why it matters. */
    private TenantKey lastTenant;
    private BackendListener listener;
    private long idleSinceNanos = System.nanoTime();

    BackendConnection(Destination destination, BackendCredentials credentials, ConnectionOwner owner,
                      Promise<BackendConnection> loginPromise, long lifetimeNanos) {
        this.destination = destination;
        this.credentials = credentials;
        this.owner = owner;
        this.lifetimeNanos = lifetimeNanos;
        this.login = new BackendLogin(destination, credentials, session.loginParameters(), loginPromise);
        this.reader = new BackendReader(this, login, session, ledger, injected, tagEffects);
    }

    /** The handler to put last in this connection's channel pipeline. */
    BackendReader reader() {
        return reader;
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
        return state == LeaseState.IDLE && channel.isActive();
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
        return state.consoleName();
    }

    public long createdAtNanos() {
        return createdAtNanos;
    }

    /** The session leasing this connection now, or null: only for the console's link column. */
    public BackendListener leaseHolder() {
        return state == LeaseState.LEASED ? listener : null;
    }

    /** Checks, before the pool hands this idle connection out, that the server still answers ({@link LivenessCheck}). */
    public io.netty.util.concurrent.Future<BackendConnection> checkAlive(Duration timeout) {
        return liveness.check(timeout, state == LeaseState.IDLE && !ledger.settingUp(), () -> {
            injected.send(Injected.LIVENESS, "");
            channel.flush();
        });
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
        if (state != LeaseState.IDLE || listener != null) {
            throw new IllegalStateException("backend connection is not free: " + state);
        }
        state = LeaseState.LEASED;
        listener = newListener;
        learner.leaseStarted(desiredSettings);
        LeasePlan plan = LeasePlan.decide(session, lastTenant, tenant, tagEffects.tenantStateUncertain(),
                searchPathSql, desiredSettings);
        lastTenant = tenant;
        tagEffects.leasePlanned();
        boolean awaitingReady = injected.startLease(plan, setupTimeout);
        AutoRead.set(channel, true);
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
        injected.leaseEnded();
        if (state == LeaseState.LEASED || state == LeaseState.CLEANING) {
            state = LeaseState.IDLE;
        }
        if (channel != null && state != LeaseState.CLOSED) {
            // Backpressure may have paused reads; an idle connection must still notice the server closing it.
            AutoRead.set(channel, true);
        }
    }

    /**
     * The client vanished while leasing this connection: finish or abort whatever it left (CopyFail for COPY IN, a
     * Sync for an open extended group, ROLLBACK for an open transaction) and only then give it back to the pool. If
     * that does not finish in time, the connection is closed instead.
     */
    public void abandon(CancelSender cancelSender, long deadlineMillis) {
        listener = null;
        if (state != LeaseState.LEASED) {
            return;
        }
        state = LeaseState.CLEANING;
        injected.leaseEnded();
        AutoRead.set(channel, true);
        hold.startCleaning(cancelSender, deadlineMillis);
        continueCleaning();
    }

    // ---- cancel bookkeeping: a backend being cancelled must not be handed to anyone else ----------------------

    void cancelStarted() {
        hold.cancelStarted();
    }

    void cancelFinished() {
        if (hold.cancelFinished()) {
            if (state == LeaseState.CANCEL_HOLD) {
                state = LeaseState.IDLE;
            }
            owner.release(this);
        }
    }

    /** Whether the pool must wait for a cancel in flight before reusing this connection. */
    public boolean holdForCancel() {
        if (!hold.holdForCancel()) {
            return false;
        }
        if (state == LeaseState.IDLE) {
            state = LeaseState.CANCEL_HOLD;
        }
        return true;
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
        if (state == LeaseState.CLOSED) {
            return;
        }
        state = LeaseState.CLOSED;
        if (channel.isActive() && !gracePeriod.isZero()) {
            channel.writeAndFlush(ClientMessages.terminate()).addListener(f -> channel.close());
            channel.eventLoop().schedule(() -> channel.close(), gracePeriod.toMillis(), TimeUnit.MILLISECONDS);
        } else {
            channel.close();
        }
    }

    // ---- what BackendReader reports (on the loop) ----------------------------------------------------------

    /** The channel is known (before it is active, so a refused TLS negotiation can close it). */
    void attach(Channel attached) {
        channel = attached;
    }

    LeaseState state() {
        return state;
    }

    /** The server's ReadyForQuery ended the login: the connection is the pool's now. */
    void loginCompleted() {
        session.loggedIn();
        state = LeaseState.IDLE;
        if (!login.handOver(this)) {
            close(); // the login timed out meanwhile
        }
    }

    /** The channel closed (either side): nothing will be answered any more. */
    void channelClosed() {
        LeaseState previous = state;
        state = LeaseState.CLOSED;
        injected.closed();
        hold.closed();
        if (previous == LeaseState.LOGGING_IN) {
            login.serverClosed();
        }
        if (liveness.inFlight()) {
            liveness.failed("the server closed the connection");
        }
        BackendListener lost = listener;
        listener = null;
        if (lost != null) {
            lost.onBackendLost(); // the session ends its lease
        } else if (previous == LeaseState.CLEANING) {
            owner.release(this); // ends the lease its departed client could not end
        }
        owner.onClosed(this);
    }

    /** An error reached the channel (a failed write, a refused TLS handshake, a login refusal): closed. */
    void failed(Throwable cause) {
        if (state == LeaseState.LOGGING_IN) {
            login.failed(cause);
        } else if (state != LeaseState.CLOSED) {
            log.warn("backend {} pid {} failed: {}", destination, processId(), cause.toString());
        } // else: an echo of the failure that closed it (a refused TLS handshake raises one)
        close();
    }

    // ---- what BackendReader, InjectedStatements and ReleaseHold use (on the loop) ----------------------------

    BackendListener listener() {
        return listener;
    }

    /** The leasing session is dropped (a failed reset): it leases another connection and hears nothing more here. */
    BackendListener detachListener() {
        BackendListener detached = listener;
        listener = null;
        return detached;
    }

    boolean leased() {
        return state == LeaseState.LEASED;
    }

    boolean cleaning() {
        return state == LeaseState.CLEANING;
    }

    /** A step of the cleanup after a departed client; once it is clean, the pool gets the connection back. */
    void continueCleaning() {
        if (hold.cleaned()) {
            owner.release(this);
        }
    }
}
