package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.ClientMessages;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Why a {@link BackendConnection} whose lease is over may not go back to the pool yet, and what ends the hold. Two
 * things outlive a lease on the server:
 *
 * <ul>
 *   <li>A cancel in flight ({@code CANCEL_HOLD}, PgBouncer's "being canceled"): until the server has closed the
 *   cancel connection, the request may still hit whatever runs there, so the next tenant must not be running it.</li>
 *   <li>What a client that left mid-lease abandoned ({@code CLEANING}): a COPY IN (CopyFail), an open extended
 *   group (Sync), replies still owed (a cancel, then the replies drained), an open transaction (ROLLBACK). Locks
 *   stay held until that is done, so it is done at once, and a connection that does not become idle within the
 *   cleanup deadline is closed instead.</li>
 * </ul>
 *
 * The connection keeps its lease state; this class counts, sends and decides when the hold is over. Runs on the
 * connection's event loop.
 */
final class ReleaseHold {

    private static final Logger log = LoggerFactory.getLogger(ReleaseHold.class);

    private final BackendConnection connection;
    private final BackendLedger ledger;
    private final InjectedStatements injected;
    private int cancelsInFlight;
    /** The lease ended while a cancel was in flight: the pool gets the connection once the last one is delivered. */
    private boolean releaseAfterCancel;
    private ScheduledFuture<?> cleanupDeadline;

    ReleaseHold(BackendConnection connection, BackendLedger ledger, InjectedStatements injected) {
        this.connection = connection;
        this.ledger = ledger;
        this.injected = injected;
    }

    // ---- cancels ---------------------------------------------------------------------------------------------

    void cancelStarted() {
        cancelsInFlight++;
    }

    /** @return true if this was the last cancel in flight and the lease ended meanwhile: release it now */
    boolean cancelFinished() {
        cancelsInFlight--;
        if (cancelsInFlight == 0 && releaseAfterCancel) {
            releaseAfterCancel = false;
            return true;
        }
        return false;
    }

    /** The lease is over: true (and remembered) if a cancel is in flight and the release must wait for it. */
    boolean holdForCancel() {
        if (cancelsInFlight > 0) {
            releaseAfterCancel = true;
            return true;
        }
        return false;
    }

    // ---- a departed client's leftovers -----------------------------------------------------------------------

    /**
     * Starts undoing what the departed client left (the connection is CLEANING now): CopyFail, Sync and a cancel are
     * sent at once, the ROLLBACK once every reply is drained ({@link #cleaned}).
     */
    void startCleaning(CancelSender cancelSender, long deadlineMillis) {
        Channel channel = connection.channel();
        if (ledger.copyIn()) {
            channel.write(ClientMessages.copyFail(channel.alloc(), "client disconnected"));
            ledger.copyAbandoned();
        }
        if (ledger.clientGroupOpen()) {
            connection.sendOwn(ClientMessages.sync(), ReplyQueue.Expected.swallow(ReplyQueue.Completion.SYNC_POINT,
                    null, ReplyQueue.Outcome.NONE));
            ledger.groupClosedByProxy();
        }
        channel.flush();
        if (ledger.owesClient()) {
            cancelSender.cancel(connection);
        }
        cleanupDeadline = channel.eventLoop().schedule(() -> {
            if (connection.cleaning()) {
                log.warn("backend {} pid {} did not become idle after its client left; closing it",
                        connection.destination(), connection.processId());
                connection.close();
            }
        }, deadlineMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * The next step of the cleanup, at each ReadyForQuery: wait while replies are owed, roll back an open
     * transaction.
     *
     * @return true once the session is clean and idle: the connection may go back to the pool
     */
    boolean cleaned() {
        if (ledger.settingUp() || ledger.owesClient()) {
            return false;
        }
        if (ledger.inTransaction()) {
            injected.send(Injected.ROLLBACK, "ROLLBACK");
            connection.channel().flush();
            return false;
        }
        stopDeadline();
        return true;
    }

    /** The connection closed: the cleanup deadline has nothing left to close. */
    void closed() {
        stopDeadline();
    }

    private void stopDeadline() {
        if (cleanupDeadline != null) {
            cleanupDeadline.cancel(false);
            cleanupDeadline = null;
        }
    }
}
