package com.perseusproxy.core.session;

import com.perseusproxy.core.protocol.PgMessage;
import io.netty.channel.Channel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * The client's messages that wait for a backend (or, pipelined behind the password, for the login), and the bound
 * past which a waiting client stops being read.
 *
 * <p>A waiting client keeps being read: pausing it and reading it again costs two epoll_ctl system calls per wait,
 * and a client that sent its transaction and waits for the reply sends nothing more anyway. Only one that goes on
 * pipelining past the bound stops being read, so what the proxy holds for it stays bounded; the session reads it
 * again once it holds a backend. Runs on the client channel's event loop.
 */
final class WaitingMessages {

    /**
     * How much a waiting client may send before it stops being read: messages, and bytes. A client that sends one
     * transaction and waits for its reply (pgbench, most drivers) stays far below, and is never paused.
     */
    static final int MAX_MESSAGES_WHILE_WAITING = 64;
    static final int MAX_BYTES_WHILE_WAITING = 64 * 1024;

    private final Channel client;
    private final ArrayDeque<PgMessage> queued = new ArrayDeque<>();
    /** What the client has sent since its transaction began waiting for a backend. */
    private int messagesWhileWaiting;
    private long bytesWhileWaiting;

    WaitingMessages(Channel client) {
        this.client = client;
    }

    /** A transaction begins waiting with {@code first}; what the login queued behind it follows it, uncounted. */
    void waitBegins(PgMessage first) {
        queued.addFirst(first);
        messagesWhileWaiting = 0;
        bytesWhileWaiting = 0;
        countWhileWaiting(first);
    }

    /** A message that must wait; {@code waiting}: for a backend (counted against the bound), else for the login. */
    void add(PgMessage message, boolean waiting) {
        queued.add(message);
        if (waiting) {
            countWhileWaiting(message);
        }
    }

    private void countWhileWaiting(PgMessage message) {
        messagesWhileWaiting++;
        bytesWhileWaiting += message.frame().readableBytes();
        if (messagesWhileWaiting > MAX_MESSAGES_WHILE_WAITING || bytesWhileWaiting > MAX_BYTES_WHILE_WAITING) {
            client.config().setAutoRead(false);
        }
    }

    /** The oldest waiting message (ownership passes), or null. */
    PgMessage poll() {
        return queued.poll();
    }

    /** The client is gone: nothing it queued will be sent. */
    void releaseAll() {
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
    }
}
