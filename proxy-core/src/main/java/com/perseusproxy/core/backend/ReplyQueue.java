package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replies a backend still owes for the messages sent to it after a lease began, in the order those messages were
 * sent, and who each reply is for.
 *
 * <p>The proxy does not send the backend exactly what the client sent: it renames prepared statements, slips in a
 * Parse the leased backend lacks, and answers some messages itself (a Parse the backend already has, a Close of a
 * client-only name). The client must still see one reply per message, in order, pipelines included. So every message
 * that produces replies gets an {@link Expected} entry here, saying which backend message completes it and whether its
 * replies go to the client, are swallowed, or are made up by the proxy. A made-up reply is emitted when its entry
 * reaches the head of the queue, i.e. after every reply to earlier messages.
 *
 * <p>After an ErrorResponse to an extended-protocol message, PostgreSQL ignores everything until the next Sync; the
 * queue mirrors that by dropping the entries up to the next Sync (their {@link Outcome#skipped()} runs), including
 * made-up replies, which PostgreSQL would not have sent either. Entries added while the backend is still skipping
 * (the client has not sent that Sync yet) are dropped as they come.
 *
 * <p>The queue also tells when the backend has answered everything: {@link #isEmpty()}. Not thread-safe: it lives on
 * its backend's event loop.
 */
public final class ReplyQueue {

    private static final Logger log = LoggerFactory.getLogger(ReplyQueue.class);

    /** The backend message(s) that end the replies to one frontend message. */
    public enum Completion {
        /** Parse: ParseComplete. */
        PARSE,
        /** Bind: BindComplete. */
        BIND,
        /** Close: CloseComplete. */
        CLOSE,
        /** Describe: RowDescription or NoData (for a statement, after a ParameterDescription). */
        DESCRIBE,
        /** Execute: CommandComplete, EmptyQueryResponse or PortalSuspended (COPY data may come before). */
        EXECUTE,
        /** Sync, Query, FunctionCall: ReadyForQuery. The only entries an error never skips. */
        SYNC_POINT;

        boolean completedBy(char tag) {
            return switch (this) {
                case PARSE -> tag == '1';
                case BIND -> tag == '2';
                case CLOSE -> tag == '3';
                case DESCRIBE -> tag == 'T' || tag == 'n';
                case EXECUTE -> tag == BackendTag.COMMAND_COMPLETE || tag == 'I' || tag == 's';
                case SYNC_POINT -> tag == BackendTag.READY_FOR_QUERY;
            };
        }

        /** What completes the replies to a client message, or null if it gets none (Flush, COPY data, unknown). */
        public static Completion of(char clientTag) {
            return switch (clientTag) {
                case FrontendTag.PARSE -> PARSE;
                case FrontendTag.BIND -> BIND;
                case FrontendTag.CLOSE -> CLOSE;
                case FrontendTag.DESCRIBE -> DESCRIBE;
                case FrontendTag.EXECUTE -> EXECUTE;
                case FrontendTag.SYNC, FrontendTag.QUERY, FrontendTag.FUNCTION_CALL -> SYNC_POINT;
                default -> null;
            };
        }
    }

    /** Where the replies of one entry go. */
    public enum Route {
        /** To the client, as they come. */
        FORWARD,
        /** Consumed by the proxy (its own message), except an ErrorResponse: that is the client's problem too. */
        SWALLOW,
        /** Nothing was sent: the proxy answers with its own frame when the entry reaches the head. */
        ANSWER,
        /** The message was sent to fail: its ErrorResponse is replaced by the proxy's frame. */
        REPLACE_ERROR
    }

    /** What became of one entry; lets the proxy keep its statement bookkeeping true to the backend's. */
    public interface Outcome {
        Outcome NONE = new Outcome() {
        };

        /** The completing message arrived (or a made-up answer was emitted). */
        default void completed() {
        }

        /** An ErrorResponse ended this entry. */
        default void failed(String sqlState) {
        }

        /** An earlier error made the backend skip the message (or the proxy drop its made-up answer). */
        default void skipped() {
        }
    }

    /** One expected reply. Immutable: the plain forwarding entries are shared. */
    public static final class Expected {
        private static final Expected[] FORWARDED = new Expected[Completion.values().length];

        static {
            for (Completion completion : Completion.values()) {
                FORWARDED[completion.ordinal()] = new Expected(completion, Route.FORWARD, null, Outcome.NONE, null);
            }
        }

        final Completion completion;
        final Route route;
        final Function<ByteBufAllocator, ByteBuf> frame;
        final Outcome outcome;
        final String prepares;

        private Expected(Completion completion, Route route, Function<ByteBufAllocator, ByteBuf> frame,
                         Outcome outcome, String prepares) {
            this.completion = completion;
            this.route = route;
            this.frame = frame;
            this.outcome = outcome;
            this.prepares = prepares;
        }

        /** Replies go to the client. */
        public static Expected forward(Completion completion, Outcome outcome) {
            return outcome == Outcome.NONE ? FORWARDED[completion.ordinal()]
                    : new Expected(completion, Route.FORWARD, null, outcome, null);
        }

        /** A client's Parse that creates {@code backendName} on the backend; replies go to the client. */
        public static Expected forwardParse(String backendName, Outcome outcome) {
            return new Expected(Completion.PARSE, Route.FORWARD, null, outcome, backendName);
        }

        /** The proxy's own message; its replies are swallowed unless it fails. */
        public static Expected swallow(Completion completion, String prepares, Outcome outcome) {
            return new Expected(completion, Route.SWALLOW, null, outcome, prepares);
        }

        /** The proxy answers a client message itself with {@code frame}, in order. */
        public static Expected answer(Completion completion, Function<ByteBufAllocator, ByteBuf> frame,
                                      Outcome outcome) {
            return new Expected(completion, Route.ANSWER, frame, outcome, null);
        }

        /** A message sent to make the backend fail; the client sees {@code errorFrame} instead of its error. */
        public static Expected replaceError(Completion completion, Function<ByteBufAllocator, ByteBuf> errorFrame) {
            return new Expected(completion, Route.REPLACE_ERROR, errorFrame, Outcome.NONE, null);
        }

        @Override
        public String toString() {
            return route + " " + completion + (prepares == null ? "" : " " + prepares);
        }
    }

    private final ArrayDeque<Expected> pending = new ArrayDeque<>();
    private final ByteBufAllocator alloc;
    private final Consumer<PgMessage> sink;
    /** An error was seen and the Sync that ends the backend's skipping has not been sent yet. */
    private boolean skipping;

    /**
     * @param alloc for the proxy's own answers
     * @param sink  receives every message for the client (ownership passes)
     */
    public ReplyQueue(ByteBufAllocator alloc, Consumer<PgMessage> sink) {
        this.alloc = alloc;
        this.sink = sink;
    }

    /** Records what a message just sent (or answered by the proxy) will get back. */
    public void expect(Expected expected) {
        if (skipping) {
            if (expected.completion != Completion.SYNC_POINT) {
                expected.outcome.skipped(); // the backend ignores it, as it ignores everything until Sync
                return;
            }
            skipping = false;
        }
        pending.add(expected);
        emitAnswersAtHead();
    }

    /** Routes one backend message (ownership passes) and moves on when it completes the head entry. */
    public void onReply(PgMessage message) {
        char tag = message.tag();
        Expected head = pending.peek();
        if (head == null || isAsynchronous(tag)) {
            sink.accept(message); // NOTICE, NOTIFY, ParameterStatus, or a FATAL error the backend sends on its own
            return;
        }
        if (tag == BackendTag.ERROR_RESPONSE && head.completion != Completion.SYNC_POINT) {
            String sqlState = MessageReader.errorFields(message).get('C');
            pending.poll();
            route(head, message);
            head.outcome.failed(sqlState);
            skipToSync();
        } else if (tag == BackendTag.READY_FOR_QUERY && head.completion != Completion.SYNC_POINT) {
            // Cannot happen if this queue mirrors the backend; recover rather than hand the next client a mess.
            log.warn("ReadyForQuery while expecting {}; dropping the entries before the next sync point", head);
            dropUntilSyncPoint();
            onReply(message);
            return;
        } else if (head.completion.completedBy(tag)) {
            pending.poll();
            route(head, message);
            head.outcome.completed();
        } else {
            route(head, message); // DataRow, ParameterDescription, COPY messages, an error before ReadyForQuery
        }
        emitAnswersAtHead();
    }

    /**
     * Whether a reply with this tag would reach the client exactly as the server sent it, with nothing of the proxy's
     * own in its place: what {@link #onReply} does for it is then only {@link #passedThrough}, and the caller may
     * forward it together with its neighbours. Errors never pass (they end entries, skip to Sync, may be replaced).
     */
    boolean passesThrough(char tag) {
        if (tag == BackendTag.ERROR_RESPONSE) {
            return false;
        }
        Expected head = pending.peek();
        if (head == null || isAsynchronous(tag)) {
            return true;
        }
        if (tag == BackendTag.READY_FOR_QUERY && head.completion != Completion.SYNC_POINT) {
            return false; // the recovery in onReply
        }
        return head.route == Route.FORWARD;
    }

    /**
     * {@link #onReply} for a reply {@link #passesThrough} let through, which the caller forwards itself: moves on
     * when it completes the head entry. Made-up answers that then reach the head wait for
     * {@link #emitAnswersAtHead}, which the caller runs once the reply is on its way to the client.
     */
    void passedThrough(char tag) {
        Expected head = pending.peek();
        if (head != null && !isAsynchronous(tag) && head.completion.completedBy(tag)) {
            pending.poll();
            head.outcome.completed();
        }
    }

    /** Whether a made-up answer of the proxy's is at the head, to be emitted by {@link #emitAnswersAtHead}. */
    boolean answerAtHead() {
        Expected head = pending.peek();
        return head != null && head.route == Route.ANSWER;
    }

    /** True when the backend owes nothing for the messages sent so far. */
    public boolean isEmpty() {
        return pending.isEmpty();
    }

    public int size() {
        return pending.size();
    }

    /** Backend statement names that pending Parse messages will create (they are sent but not answered yet). */
    public List<String> pendingPreparations() {
        List<String> names = new ArrayList<>();
        for (Expected expected : pending) {
            if (expected.prepares != null) {
                names.add(expected.prepares);
            }
        }
        return names;
    }

    private void route(Expected entry, PgMessage message) {
        boolean error = message.tag() == BackendTag.ERROR_RESPONSE;
        switch (entry.route) {
            case FORWARD -> sink.accept(message);
            case SWALLOW -> {
                if (error) {
                    sink.accept(message);
                } else {
                    message.release();
                }
            }
            case REPLACE_ERROR -> {
                message.release();
                if (error) {
                    sink.accept(new PgMessage(entry.frame.apply(alloc)));
                }
            }
            case ANSWER -> {
                message.release(); // never at the head while replies are read; defensive
                log.warn("backend reply {} met a proxy answer at the head of the queue", message);
            }
        }
    }

    void emitAnswersAtHead() {
        Expected head;
        while ((head = pending.peek()) != null && head.route == Route.ANSWER) {
            pending.poll();
            sink.accept(new PgMessage(head.frame.apply(alloc)));
            head.outcome.completed();
        }
    }

    /** The backend now ignores messages until the next Sync: so do the entries for them. */
    private void skipToSync() {
        if (!dropUntilSyncPoint()) {
            skipping = true;
        }
    }

    /** @return whether a sync point entry was reached (it stays at the head) */
    private boolean dropUntilSyncPoint() {
        Expected head;
        while ((head = pending.peek()) != null) {
            if (head.completion == Completion.SYNC_POINT) {
                return true;
            }
            pending.poll();
            head.outcome.skipped();
        }
        return false;
    }

    private static boolean isAsynchronous(char tag) {
        return tag == BackendTag.NOTICE_RESPONSE || tag == BackendTag.NOTIFICATION_RESPONSE
                || tag == BackendTag.PARAMETER_STATUS;
    }
}
