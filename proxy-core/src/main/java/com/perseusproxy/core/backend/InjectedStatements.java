package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.ClientMessages;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.statements.BackendStatements;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The simple Queries one {@link BackendConnection} sends on its own, and what their replies mean: what a
 * {@link LeasePlan} says a lease needs first (reset, search_path, settings), the {@link SettingsLearner}'s question
 * before a lease ends, a departed client's ROLLBACK and the {@link LivenessCheck}'s empty query.
 *
 * <p>None of their replies ever reaches a client, and each kind fails differently ({@link Injected}): a failed reset
 * leaves a session nobody knows (closed, and the client leases another without seeing the error), a failed
 * search_path means nothing may run for this client, a failed SET leaves the settings in doubt. That judgement, the
 * lease-setup deadline (SchemaExecTimeoutSecs) and the client's ReadyForQuery held back for the learner's answer are
 * kept here, apart from the connection's lease states and the forwarding of the client's own traffic. The connection
 * routes a reply here while {@link BackendLedger#settingUp()} says one of these statements is unanswered, since the
 * server answers in order. Runs on the connection's event loop.
 */
final class InjectedStatements {

    private static final Logger log = LoggerFactory.getLogger(InjectedStatements.class);

    private final BackendConnection connection;
    private final BackendLedger ledger;
    private final ServerSessionState session;
    private final BackendStatements statements;
    private final SettingsLearner learner;
    private final LivenessCheck liveness;
    /** Bounds the per-lease statements by SchemaExecTimeoutSecs; null when none are unanswered. */
    private ScheduledFuture<?> setupDeadline;
    /** The reset counted statements made with SQL PREPARE: they are deallocated before the lease goes on. */
    private boolean sqlPreparedLeft;
    /** A tenant-switch reset is in flight: the client's messages wait for {@link BackendListener#onLeaseReady}. */
    private boolean awaitingReady;
    /** The client's last ReadyForQuery, held while the learner's question is answered; null when none is. */
    private PgMessage heldReady;

    InjectedStatements(BackendConnection connection, BackendLedger ledger, ServerSessionState session,
                       BackendStatements statements, SettingsLearner learner, LivenessCheck liveness) {
        this.connection = connection;
        this.ledger = ledger;
        this.session = session;
        this.statements = statements;
        this.learner = learner;
        this.liveness = liveness;
    }

    /** Writes one statement of the proxy's own (not flushed); its replies are swallowed. */
    void send(Injected kind, String sql) {
        ledger.injected(kind);
        statements.unnamedDropped(); // a simple Query: PostgreSQL drops the unnamed statement
        Channel channel = connection.channel();
        channel.write(ClientMessages.query(channel.alloc(), sql));
    }

    /**
     * Writes what the plan says the lease sends first, and arms the setup deadline if anything was sent.
     *
     * @return true if the client's messages must wait for the reset ({@link BackendListener#onLeaseReady})
     */
    boolean startLease(LeasePlan plan, Duration setupTimeout) {
        if (plan.resetSql() != null) {
            send(Injected.RESET, plan.resetSql());
        }
        if (plan.searchPathSql() != null) {
            send(Injected.SEARCH_PATH, plan.searchPathSql());
        }
        if (plan.settingsSql() != null) {
            send(Injected.SETTINGS, plan.settingsSql());
        }
        if (ledger.settingUp()) {
            // Only a lease that sends something needs a deadline; the common same-tenant lease schedules no timer.
            setupDeadline = connection.channel().eventLoop().schedule(() -> setupTimedOut(setupTimeout),
                    setupTimeout.toMillis(), TimeUnit.MILLISECONDS);
        }
        awaitingReady = plan.resetSql() != null;
        return awaitingReady;
    }

    /** The lease ended or was abandoned: no client waits for the reset any more. */
    void leaseEnded() {
        awaitingReady = false;
    }

    /**
     * The ReadyForQuery that would end the lease has come: if the client changed its settings, ask for them first
     * ({@link SettingsLearner}) and hold this ReadyForQuery back until the answer is in. Holding it keeps the lease
     * boundary where the client sees it: a client that waits for ReadyForQuery starts its next transaction on a new
     * lease, which repairs a search_path its SET changed, exactly as without the question.
     *
     * @return true if the question was sent and {@code ready} is held (ownership passes)
     */
    boolean askBeforeLastReady(PgMessage ready) {
        String question = learner.question();
        if (question == null) {
            return false;
        }
        send(Injected.LEARN, question);
        connection.channel().flush();
        heldReady = ready;
        return true;
    }

    /** Whether {@link #askBeforeLastReady} may hold the ReadyForQuery that ends the lease. */
    boolean mayAskBeforeLastReady() {
        return learner.mayAsk();
    }

    /** A reply to the oldest unanswered statement of the proxy's own (never the client's; released by the caller). */
    void onReply(PgMessage message) {
        Injected kind = ledger.pendingInjected();
        char tag = message.tag();
        if (tag == BackendTag.DATA_ROW && kind == Injected.RESET) {
            sqlPreparedLeft |= SessionReset.sqlPreparedLeft(message);
        } else if (tag == BackendTag.DATA_ROW && kind == Injected.LEARN) {
            Map<String, String> learned = learner.answer(message, session);
            BackendListener listener = connection.listener();
            if (listener != null) {
                listener.onSettingsLearned(learned);
            }
        } else if (tag == BackendTag.ERROR_RESPONSE) {
            onError(kind, MessageReader.errorFields(message));
        } else if (tag == BackendTag.READY_FOR_QUERY) {
            onReady(message);
        }
    }

    private void onError(Injected kind, Map<Character, String> fields) {
        String text = kind + " statement failed on backend " + connection.destination() + ": " + fields.get('M');
        if (kind == Injected.LIVENESS) {
            liveness.failed(fields.get('M'));
            return;
        }
        log.warn(text);
        if (kind == Injected.SETTINGS || kind == Injected.LEARN) {
            session.markDirty(); // the settings were rolled back: reset to known values next lease
        }
        if (kind == Injected.RESET) {
            // The session is in a state nobody knows: it serves no one. The client's messages have not been sent yet
            // (they wait for the reset), so it simply gets another connection.
            BackendListener waiting = connection.detachListener();
            connection.close();
            if (waiting != null) {
                waiting.onLeaseRetry();
            }
            return;
        }
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onLeaseSetupFailed(new PgException(fields.getOrDefault('C', "XX000"), text,
                    kind == Injected.SEARCH_PATH, null));
        }
    }

    private void onReady(PgMessage ready) {
        Injected answered = ledger.injectedAnswered(ready);
        if (answered == Injected.LIVENESS) {
            liveness.answered();
            return;
        }
        if (answered == Injected.RESET && sqlPreparedLeft) {
            // The previous tenant left SQL-prepared statements: deallocate them before this tenant's first message,
            // which still waits (a failure here is a failed reset like any other).
            sqlPreparedLeft = false;
            send(Injected.RESET, SessionReset.DEALLOCATE_SQL_PREPARED);
            connection.channel().flush();
            return;
        }
        boolean settled = !ledger.settingUp();
        if (heldReady != null && settled) {
            PgMessage held = heldReady;
            heldReady = null;
            ledger.replies().onReply(held); // the client's own, answered now; the checks below may end the lease
        }
        if (settled && setupDeadline != null) {
            setupDeadline.cancel(false);
            setupDeadline = null;
        }
        if (connection.cleaning()) {
            connection.continueCleaning();
            return;
        }
        if (settled && awaitingReady && connection.listener() != null) {
            awaitingReady = false;
            connection.listener().onLeaseReady(); // the client's messages may follow now
        }
        BackendListener listener = connection.listener();
        if (listener != null && ledger.isFree()) {
            listener.onBackendIdle(); // a lease with no client traffic yet (the login probe)
        }
    }

    private void setupTimedOut(Duration timeout) {
        setupDeadline = null;
        if (!ledger.settingUp() || !connection.leased()) {
            return;
        }
        String text = "backend " + connection.destination() + " pid " + connection.processId() + " did not confirm"
                + " the tenant's search_path within " + timeout.toSeconds() + " s (PoolSettings.SchemaExecTimeoutSecs)";
        log.warn(text);
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onLeaseSetupFailed(new PgException("08006", text, true, null));
        } else {
            connection.close();
        }
    }

    /** The connection closed: nothing of the proxy's own will be answered. */
    void closed() {
        if (heldReady != null) {
            heldReady.release();
            heldReady = null;
        }
        if (setupDeadline != null) {
            setupDeadline.cancel(false);
        }
    }
}
