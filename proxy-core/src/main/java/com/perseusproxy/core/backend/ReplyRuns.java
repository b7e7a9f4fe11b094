package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.PgFrameRunDecoder;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;

/**
 * The common case of the reply path: what the server sends a leasing client that the proxy forwards exactly as it
 * came goes out in runs, each contiguous stretch of such messages one slice of the read buffer and one write, with
 * the per-message bookkeeping done on the bytes and no {@link PgMessage} made. A {@code pgbench -S} transaction is
 * then one write (RowDescription, DataRow, CommandComplete, ReadyForQuery) instead of four.
 *
 * <pre>
 *  read buffer:  T D D D C Z | S | D D C Z ...
 *                └─ run ───┘   │   └─ run ─┘
 *                  one write,  one by one through {@link BackendReader}'s message path
 *                  then onBackendIdle if the Z freed the connection
 * </pre>
 *
 * A message ends the run before it, and takes {@link BackendReader}'s path of one {@link PgMessage}, whenever that
 * path does more than forward it: while the proxy's own statements are answered ({@link BackendLedger#settingUp()}),
 * for every ErrorResponse (reply-queue errors, the query-timeout rewrite), ParameterStatus (observed twice),
 * CommandComplete tags that may matter ({@link CommandTagEffects}; the prepared-statement router's DEALLOCATE ALL and
 * DISCARD ALL are among them), the COPY responses, a reply-queue head that is not forwarded as is, and a
 * ReadyForQuery the {@link SettingsLearner} may hold back. A ReadyForQuery always ends its run, so the lease ends only
 * after everything before it has been written. Runs on the backend's event loop.
 */
final class ReplyRuns {

    private final BackendConnection connection;
    private final BackendLedger ledger;
    private final InjectedStatements injected;

    ReplyRuns(BackendConnection connection, BackendLedger ledger, InjectedStatements injected) {
        this.connection = connection;
        this.ledger = ledger;
        this.injected = injected;
    }

    /**
     * Forwards the run of messages that starts at {@code start} in {@code frames} (whole frames up to {@code end}),
     * for a leased connection.
     *
     * @return where the run stopped: at {@code end}, after a ReadyForQuery, or at a message for the one-by-one path
     *         ({@code start} itself when the first message is one)
     */
    int forward(ByteBuf frames, int start, int end) {
        BackendListener listener = connection.listener();
        if (listener == null) {
            return start;
        }
        ReplyQueue replies = ledger.replies();
        int at = start;
        while (at < end) {
            int frameBytes = PgFrameRunDecoder.frameBytes(frames, at);
            char tag = (char) frames.getUnsignedByte(at);
            if (!passesThrough(frames, at, tag, frameBytes)) {
                break;
            }
            ledger.observe(tag, tag == BackendTag.READY_FOR_QUERY
                    ? (char) frames.getByte(at + PgMessage.HEADER_LENGTH) : 0);
            replies.passedThrough(tag);
            at += frameBytes;
            if (tag == BackendTag.READY_FOR_QUERY) {
                deliver(listener, frames, start, at, true);
                afterReady(listener);
                return at;
            }
            if (replies.answerAtHead()) {
                deliver(listener, frames, start, at, false);
                replies.emitAnswersAtHead(); // after the reply that preceded them, as the client expects
                return at;
            }
        }
        deliver(listener, frames, start, at, false);
        return at;
    }

    /** Whether the message at {@code at} is forwarded as is, with bookkeeping the run can do on the bytes. */
    private boolean passesThrough(ByteBuf frames, int at, char tag, int frameBytes) {
        if (ledger.settingUp()) {
            return false; // InjectedStatements' replies, never the client's
        }
        switch (tag) {
            case BackendTag.PARAMETER_STATUS, BackendTag.ERROR_RESPONSE, BackendTag.COPY_IN_RESPONSE,
                 BackendTag.COPY_OUT_RESPONSE, BackendTag.COPY_BOTH_RESPONSE -> {
                return false;
            }
            case BackendTag.COMMAND_COMPLETE -> {
                if (CommandTagEffects.mayMatter(frames, at + PgMessage.HEADER_LENGTH,
                        frameBytes - PgMessage.HEADER_LENGTH)) {
                    return false;
                }
            }
            case BackendTag.READY_FOR_QUERY -> {
                if (injected.mayAskBeforeLastReady()) {
                    return false; // it may be held back for the learner's question
                }
            }
            default -> {
            }
        }
        return ledger.replies().passesThrough(tag);
    }

    private static void deliver(BackendListener listener, ByteBuf frames, int from, int to, boolean endsWithReady) {
        if (to == from) {
            return;
        }
        // The whole buffer is the common case (a read that is one query's replies): no slice needed.
        ByteBuf run = from == frames.readerIndex() && to == frames.writerIndex() ? frames.retain()
                : frames.retainedSlice(from, to - from);
        listener.onBackendRun(run, endsWithReady);
    }

    /** As in {@link BackendReader}'s path after a ReadyForQuery: a departed client's cleanup, or the lease's end. */
    private void afterReady(BackendListener listener) {
        if (connection.cleaning()) {
            connection.continueCleaning(); // the client left while the run was written
        } else if (ledger.isFree() && connection.listener() == listener) {
            listener.onBackendIdle();
        }
    }
}
