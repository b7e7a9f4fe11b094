package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;

/**
 * The Netty handler of one backend channel: reads what the server sends and routes each message by where its
 * {@link BackendConnection} stands. During the login, to {@link BackendLogin}; afterwards, while statements of the
 * proxy's own are unanswered, to {@link InjectedStatements} (the server answers in order, so they come first);
 * otherwise through the {@link BackendLedger} and its reply queue to the leasing client, or swallowed. It notices the
 * ReadyForQuery that frees the connection and tells the lease holder ({@link BackendListener#onBackendIdle}).
 *
 * <p>Kept apart from the connection, which is what the pool and the sessions use (lease states, sending, ending,
 * closing): this is the one path every server message takes, so it allocates nothing and makes no String of the
 * common command tags. Runs on the channel's event loop.
 */
final class BackendReader extends ChannelInboundHandlerAdapter {

    private final BackendConnection connection;
    private final BackendLogin login;
    private final ServerSessionState session;
    private final BackendLedger ledger;
    private final InjectedStatements injected;
    private final CommandTagEffects tagEffects;

    BackendReader(BackendConnection connection, BackendLogin login, ServerSessionState session, BackendLedger ledger,
                  InjectedStatements injected, CommandTagEffects tagEffects) {
        this.connection = connection;
        this.login = login;
        this.session = session;
        this.ledger = ledger;
        this.injected = injected;
        this.tagEffects = tagEffects;
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
        PgMessage message = (PgMessage) msg;
        try {
            switch (connection.state()) {
                case LOGGING_IN -> {
                    if (login.onMessage(ctx.channel(), message)) {
                        connection.loginCompleted();
                    }
                }
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
}
