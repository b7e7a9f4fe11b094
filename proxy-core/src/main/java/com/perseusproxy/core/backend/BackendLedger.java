package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * What one backend session owes and where it stands in the protocol, in one place: the proxy's own statements still
 * unanswered, the replies due for everything sent during the lease ({@link ReplyQueue}), whether the client has an
 * extended-protocol group open (no Sync yet), the last transaction status, and whether a COPY FROM STDIN is running.
 * {@link #isFree()} is the one answer the pool needs: nothing owed, no group open, no transaction. Lives on the
 * backend's event loop.
 */
final class BackendLedger {

    private final ArrayDeque<Injected> injected = new ArrayDeque<>();
    private final ReplyQueue replies;
    private boolean clientGroupOpen;
    private char transactionStatus = 'I';
    private boolean copyIn;

    /** @param toClient receives every reply that is the client's (ownership passes) */
    BackendLedger(Consumer<PgMessage> toClient) {
        this.replies = new ReplyQueue(ByteBufAllocator.DEFAULT, toClient);
    }

    ReplyQueue replies() {
        return replies;
    }

    // ---- the proxy's own statements --------------------------------------------------------------------------

    void injected(Injected kind) {
        injected.add(kind);
    }

    /** Whether statements the proxy sent itself are still unanswered (their replies come before the client's). */
    boolean settingUp() {
        return !injected.isEmpty();
    }

    /** The proxy's statement the next reply belongs to, or null. */
    Injected pendingInjected() {
        return injected.peek();
    }

    /** Its ReadyForQuery came: that statement is answered. */
    Injected injectedAnswered(PgMessage readyForQuery) {
        transactionStatus = readyForQuery.readyStatus();
        return injected.poll();
    }

    // ---- the client's traffic --------------------------------------------------------------------------------

    /** A client message of this type is being sent: Sync closes its group, other extended messages open one. */
    void clientSends(char tag) {
        switch (tag) {
            case FrontendTag.SYNC -> clientGroupOpen = false;
            case FrontendTag.QUERY, FrontendTag.FUNCTION_CALL, FrontendTag.COPY_DATA, FrontendTag.COPY_DONE,
                 FrontendTag.COPY_FAIL -> {
            }
            default -> clientGroupOpen = true; // Parse, Bind, Describe, Execute, Close, Flush, unknown
        }
    }

    /** A reply to the client's traffic (before the reply queue routes it): transaction status and COPY state. */
    void observe(PgMessage reply) {
        observe(reply.tag(), reply.tag() == BackendTag.READY_FOR_QUERY ? reply.readyStatus() : 0);
    }

    /** {@link #observe(PgMessage)} from the tag alone, plus the status byte when it is a ReadyForQuery. */
    void observe(char tag, char readyStatus) {
        switch (tag) {
            case BackendTag.READY_FOR_QUERY -> {
                transactionStatus = readyStatus;
                copyIn = false;
            }
            case BackendTag.COPY_IN_RESPONSE -> copyIn = true;
            case BackendTag.COMMAND_COMPLETE, BackendTag.ERROR_RESPONSE -> copyIn = false;
            default -> {
            }
        }
    }

    /**
     * Whether {@code reply}, a ReadyForQuery the client's traffic got, would end the lease: it answers the last
     * message owed, with no group open and no transaction.
     */
    boolean endsLease(PgMessage reply) {
        return reply.tag() == BackendTag.READY_FOR_QUERY && readyEndsLease();
    }

    /** {@link #endsLease} for a ReadyForQuery just {@link #observe observed}. */
    boolean readyEndsLease() {
        return replies.size() == 1 && !clientGroupOpen && transactionStatus == 'I';
    }

    /** Nothing owed, no extended group open, no transaction: the session may serve anyone. */
    boolean isFree() {
        return injected.isEmpty() && replies.isEmpty() && !clientGroupOpen && transactionStatus == 'I';
    }

    /** Whether the client's own work may still be running (a cancel would hit it). */
    boolean owesClient() {
        return !replies.isEmpty();
    }

    boolean copyIn() {
        return copyIn;
    }

    /** The proxy sent CopyFail for a client that left mid-COPY. */
    void copyAbandoned() {
        copyIn = false;
    }

    boolean clientGroupOpen() {
        return clientGroupOpen;
    }

    /** The proxy sent the Sync a departed client owed. */
    void groupClosedByProxy() {
        clientGroupOpen = false;
    }

    boolean inTransaction() {
        return transactionStatus != 'I';
    }
}
