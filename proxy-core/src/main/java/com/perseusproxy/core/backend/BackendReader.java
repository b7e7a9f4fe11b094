package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgFrameRunDecoder;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * The Netty handler of one backend channel: reads what the server sends (each read's whole messages in one buffer,
 * from {@link com.perseusproxy.core.protocol.PgFrameRunDecoder}) and routes each message by where its
 * {@link BackendConnection} stands. During the login, to {@link BackendLogin}; while leased, what is forwarded as it
 * came goes to the client in runs ({@link ReplyRuns}, the common case); anything else - and every message while the
 * connection is not leased - takes the full path here, one {@link PgMessage}: while statements of the proxy's own are
 * unanswered, to {@link InjectedStatements} (the server answers in order, so they come first); otherwise through the
 * {@link BackendLedger} and its reply queue to the leasing client, or swallowed. It notices the ReadyForQuery that
 * frees the connection and tells the lease holder ({@link BackendListener#onBackendIdle}).
 *
 * <p>Kept apart from the connection, which is what the pool and the sessions use (lease states, sending, ending,
 * closing): this is the one path every server message takes, so the common case allocates nothing per message and
 * makes no String of the common command tags. Runs on the channel's event loop.
 */
final class BackendReader extends ChannelInboundHandlerAdapter {

    private final BackendConnection connection;
    private final BackendLogin login;
    private final ServerSessionState session;
    private final BackendLedger ledger;
    private final InjectedStatements injected;
    private final CommandTagEffects tagEffects;
    /** The common case: replies forwarded to the leasing client as they came, several per write. */
    private final ReplyRuns runs;

    BackendReader(BackendConnection connection, BackendLogin login, ServerSessionState session, BackendLedger ledger,
                  InjectedStatements injected, CommandTagEffects tagEffects) {
        this.connection = connection;
        this.login = login;
        this.session = session;
        this.ledger = ledger;
        this.injected = injected;
        this.tagEffects = tagEffects;
        this.runs = new ReplyRuns(connection, ledger, injected);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        // Known before channelActive, which a TLS negotiation delays until its handshake is done: a refused
        // negotiation must still be able to close this connection.
        connection.attach(ctx.channel());
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        connection.attach(ctx.channel());
        login.start(ctx.channel());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf frames = (ByteBuf) msg; // whole messages (PgFrameRunDecoder)
        try {
            int at = frames.readerIndex();
            int end = frames.writerIndex();
            while (at < end) {
                // The state is read again after every run or message: a ReadyForQuery may end a login or a lease.
                at = switch (connection.state()) {
                    case LOGGING_IN -> onLoginMessage(ctx, frames, at);
                    case LEASED -> {
                        int next = runs.forward(frames, at, end);
                        yield next != at ? next : onSessionMessage(frames, at);
                    }
                    case IDLE, CANCEL_HOLD, CLEANING -> onSessionMessage(frames, at);
                    case CLOSED -> end;
                };
            }
        } finally {
            frames.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onBackendReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        BackendListener listener = connection.listener();
        if (listener != null) {
            listener.onBackendWritabilityChanged(ctx.channel().isWritable());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        connection.channelClosed();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        connection.failed(cause);
    }

    /** @return where the next message starts */
    private int onLoginMessage(ChannelHandlerContext ctx, ByteBuf frames, int at) {
        int frameBytes = PgFrameRunDecoder.frameBytes(frames, at);
        PgMessage message = new PgMessage(frames.retainedSlice(at, frameBytes));
        try {
            if (login.onMessage(ctx.channel(), message)) {
                connection.loginCompleted();
            }
        } finally {
            message.release();
        }
        return at + frameBytes;
    }

    /** One message by the full path (what {@link ReplyRuns} does not forward in a run). @return the next's start */
    private int onSessionMessage(ByteBuf frames, int at) {
        int frameBytes = PgFrameRunDecoder.frameBytes(frames, at);
        PgMessage message = new PgMessage(frames.retainedSlice(at, frameBytes));
        if (!onSessionMessage(message)) {
            message.release();
        }
        return at + frameBytes;
    }

    /** @return true if the message was taken over (by the reply queue), false if it is to be released */
    private boolean onSessionMessage(PgMessage message) {
        char tag = message.tag();
        if (tag == BackendTag.PARAMETER_STATUS) {
            String[] nameValue = MessageReader.parameterStatus(message);
            session.observe(nameValue[0], nameValue[1]);
        }
        if (ledger.settingUp()) {
            injected.onReply(message);
            return false;
        }
        ledger.observe(message);
        if (tag == BackendTag.COMMAND_COMPLETE && CommandTagEffects.mayMatter(message)) {
            tagEffects.completed(message, connection.leased()); // SELECT, INSERT, ...: never get here
        }
        BackendListener current = connection.listener();
        if (current != null && connection.leased() && ledger.endsLease(message)
                && injected.askBeforeLastReady(message)) {
            return true; // held until the question is answered
        }
        ledger.replies().onReply(message); // to the leasing client, or swallowed
        if (connection.cleaning()) {
            if (tag == BackendTag.READY_FOR_QUERY) {
                connection.continueCleaning();
            }
        } else if (current != null && tag == BackendTag.READY_FOR_QUERY && ledger.isFree()
                && connection.listener() == current) {
            current.onBackendIdle();
        }
        return true;
    }

    /** Where the reply queue sends what is for the client: the leasing session, if any (else dropped). */
    void deliver(PgMessage message) {
        BackendListener current = connection.leased() ? connection.listener() : null;
        if (current == null) {
            // No client (cleaning up after one that left, or an asynchronous NOTICE or NOTIFY between leases).
            message.release();
            return;
        }
        current.onBackendMessage(message);
    }
}
