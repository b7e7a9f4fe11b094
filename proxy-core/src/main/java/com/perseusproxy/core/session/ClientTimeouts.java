package com.perseusproxy.core.session;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.CancelSender;
import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The clocks of one client session for PgBouncer's client-side timeouts, kept apart from {@link ClientSession} so the
 * session's state machine stays readable. The session reports events (a client message, a message forwarded to the
 * backend, a backend reply); {@link ClientRegistry}'s sweep asks {@link #check} about once every half second. So no
 * timer is created or cancelled per message, and the cost of a timeout is a few field writes per message.
 *
 * <ul>
 *   <li><b>Idle in transaction</b> ({@code IdleInTransactionTimeoutSecs}, PgBouncer's idle_transaction_timeout): the
 *   client holds a backend (a transaction, or an extended-protocol group without Sync) and nothing is owed to it.
 *   The client gets 25P03, as from PostgreSQL's idle_in_transaction_session_timeout, and is closed; the backend is
 *   closed too (mid-transaction, it cannot go back to the pool; the server rolls it back), so the pool opens a fresh
 *   one for the next tenant.</li>
 *   <li><b>Client idle</b> ({@code ClientIdleTimeoutSecs}, PgBouncer's client_idle_timeout): logged in, no backend,
 *   nothing sent. 57P05, as PostgreSQL's idle_session_timeout, and closed. It holds no backend, so nothing else is
 *   done.</li>
 *   <li><b>Query</b> ({@code QueryTimeoutSecs}, PgBouncer's query_timeout): replies owed for longer than this. The
 *   backend gets a CancelRequest (as statement_timeout would stop it) and the client the server's 57014, reworded to
 *   name the setting; the session carries on. PgBouncer closes both connections instead; a cancel keeps the
 *   client's session and the pooled backend. If the server has not answered {@link #CANCEL_GRACE} after the cancel,
 *   the backend is closed and the client gets 57014 as a fatal error.</li>
 * </ul>
 */
public final class ClientTimeouts {

    private static final Logger log = LoggerFactory.getLogger(ClientTimeouts.class);
    /** How long a cancelled query may take to stop before its backend is closed. */
    static final Duration CANCEL_GRACE = Duration.ofSeconds(5);
    private static final String QUERY_CANCELED = "57014";

    /** The three timeouts; zero turns one off. Replaced whole on reload. */
    public record Settings(Duration idleInTransaction, Duration clientIdle, Duration query) {
        public static final Settings OFF = new Settings(Duration.ZERO, Duration.ZERO, Duration.ZERO);
    }

    /** What the session does when a timeout fires. */
    interface Expiry {
        /** Sends {@code error} (fatal), closes the client and, if {@code closeBackend}, the leased backend. */
        void expire(PgException error, boolean closeBackend);
    }

    /** Last thing that happened on the session, either way: idle clocks start from it. */
    private long lastActivityNanos = System.nanoTime();
    /** When the oldest reply now owed by the backend started to be owed. */
    private long workStartedNanos;
    /** When this session's query was cancelled for running too long; 0 = not. */
    private long cancelSentNanos;
    /** The timeout that cancelled the query, for the reworded error. */
    private long cancelledAfterSecs;

    /** When the client's socket read now being handled began; valid while {@link #readClockSet}. */
    private long readStartedNanos;
    private boolean readClockSet;

    /**
     * A message arrived from the client. Returns the time to count it at: when the socket read that brought it began,
     * one clock reading for all the messages of a read (an extended-protocol query is five), which arrived together;
     * the clocks here count in seconds and the query histogram in microseconds.
     */
    long onClientMessage() {
        if (!readClockSet) {
            readStartedNanos = System.nanoTime();
            readClockSet = true;
        }
        lastActivityNanos = readStartedNanos;
        return readStartedNanos;
    }

    /** The client's socket read is handled (channelReadComplete): the next message reads the clock again. */
    void clientReadComplete() {
        readClockSet = false;
    }

    /** A client message goes to {@code backend}; if nothing was owed before, a new query's clock starts now. */
    void beforeForward(BackendConnection backend, long nowNanos) {
        if (!backend.hasClientWorkInFlight()) {
            workStartedNanos = nowNanos;
        }
    }

    /**
     * A backend message for the client: restarts the clocks at a ReadyForQuery (a pipelined statement starts then),
     * and rewords the server's 57014 after a cancel of the proxy's own.
     *
     * @return the frame to write to the client (ownership passes); {@code message} is released if replaced
     */
    ByteBuf onBackendMessage(PgMessage message, ByteBufAllocator alloc, long nowNanos) {
        lastActivityNanos = nowNanos;
        char tag = message.tag();
        if (tag == BackendTag.READY_FOR_QUERY) {
            workStartedNanos = nowNanos;
            cancelSentNanos = 0;
        } else if (cancelSentNanos != 0 && tag == BackendTag.ERROR_RESPONSE
                && QUERY_CANCELED.equals(MessageReader.errorFields(message).get('C'))) {
            message.release();
            return ServerMessages.errorResponse(alloc, "ERROR", QUERY_CANCELED, "canceling statement due to query"
                    + " timeout: it ran longer than " + cancelledAfterSecs + " s (ClientSettings.QueryTimeoutSecs);"
                    + " make it faster or raise the timeout");
        }
        return message.frame();
    }

    /**
     * {@link #onBackendMessage} for a run of messages forwarded as they came (never an ErrorResponse).
     *
     * @param endsWithReady whether the run's last message is a ReadyForQuery
     */
    void onBackendRun(boolean endsWithReady, long nowNanos) {
        lastActivityNanos = nowNanos;
        if (endsWithReady) {
            workStartedNanos = nowNanos;
            cancelSentNanos = 0;
        }
    }

    /**
     * How long the query that a ReadyForQuery now ends has run: since its first message went to the backend (or
     * since the previous ReadyForQuery, for a query pipelined behind it). Call before {@link #onBackendMessage}
     * or {@link #onBackendRun}.
     */
    long queryNanos(long nowNanos) {
        return nowNanos - workStartedNanos;
    }

    /**
     * Fires whatever timeout has passed.
     *
     * @param idle    logged in, between transactions (no backend)
     * @param backend the backend leased for a transaction, or null
     * @return true when the query timeout sent a cancel now (the other timeouts report through {@code expiry})
     */
    boolean check(long nowNanos, Settings settings, boolean idle, BackendConnection backend, CancelSender cancels,
               Expiry expiry) {
        if (idle) {
            if (passed(settings.clientIdle(), lastActivityNanos, nowNanos)) {
                expiry.expire(new PgException("57P05", "terminating connection due to idle-session timeout: no query"
                        + " for " + settings.clientIdle().toSeconds() + " s (ClientSettings.ClientIdleTimeoutSecs);"
                        + " reconnect to continue"), false);
            }
            return false;
        }
        if (backend == null) {
            return false;
        }
        if (!backend.hasClientWorkInFlight()) {
            if (passed(settings.idleInTransaction(), lastActivityNanos, nowNanos)) {
                expiry.expire(new PgException("25P03", "terminating connection due to idle-in-transaction timeout: the"
                        + " transaction was idle for more than " + settings.idleInTransaction().toSeconds()
                        + " s (ClientSettings.IdleInTransactionTimeoutSecs) and has been rolled back; reconnect, retry"
                        + " it, and commit or roll back without pausing"), true);
            }
            return false;
        }
        if (cancelSentNanos == 0) {
            if (passed(settings.query(), workStartedNanos, nowNanos)) {
                cancelSentNanos = nowNanos;
                cancelledAfterSecs = settings.query().toSeconds();
                log.info("query on backend {} pid {} ran longer than {} s (ClientSettings.QueryTimeoutSecs):"
                        + " cancelling it", backend.destination(), backend.processId(), cancelledAfterSecs);
                cancels.cancel(backend);
                return true;
            }
        } else if (nowNanos - cancelSentNanos >= CANCEL_GRACE.toNanos()) {
            expiry.expire(new PgException(QUERY_CANCELED, "terminating connection due to query timeout: the query ran"
                    + " longer than " + cancelledAfterSecs + " s (ClientSettings.QueryTimeoutSecs) and did not stop"
                    + " when cancelled; reconnect and retry"), true);
        }
        return false;
    }

    private static boolean passed(Duration timeout, long sinceNanos, long nowNanos) {
        return !timeout.isZero() && nowNanos - sinceNanos >= timeout.toNanos();
    }

    static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }
}
