package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.PgException;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The liveness check of one {@link BackendConnection} before the pool hands it out (PoolSettings.ServerCheckDelaySecs):
 * the promise in flight, its deadline, and how it ends - the server's ReadyForQuery to the empty query, an error, the
 * server closing, or silence past the timeout. A failed check closes the connection.
 *
 * <p>Kept apart from the connection, whose job is the lease states and what a session owes; the check only borrows
 * the idle connection for one empty query. Runs on the connection's event loop.
 */
final class LivenessCheck {

    private final BackendConnection connection;
    /** The check in flight; null when none. */
    private Promise<BackendConnection> pending;

    LivenessCheck(BackendConnection connection) {
        this.connection = connection;
    }

    /**
     * Starts a check on an idle connection: {@code sendEmptyQuery} sends the query, and {@code result} fails unless
     * the server answers within {@code timeout}.
     */
    void start(Promise<BackendConnection> result, Duration timeout, Runnable sendEmptyQuery) {
        pending = result;
        sendEmptyQuery.run();
        ScheduledFuture<?> deadline = connection.channel().eventLoop().schedule(() -> failed("no answer within "
                + timeout.toMillis() + " ms"), timeout.toMillis(), TimeUnit.MILLISECONDS);
        result.addListener(f -> deadline.cancel(false));
    }

    /** The check in flight, if any, fails and the connection is closed. */
    void failed(String why) {
        Promise<BackendConnection> check = pending;
        pending = null;
        if (check != null && check.tryFailure(new PgException("08006", "liveness check of backend "
                + connection.destination() + " pid " + connection.processId() + " failed: " + why))) {
            connection.close();
        }
    }

    /** The server answered the empty query: the connection may be handed out. */
    void answered() {
        Promise<BackendConnection> check = pending;
        pending = null;
        if (check != null && !check.trySuccess(connection)) {
            connection.close(); // timed out meanwhile
        }
    }

    boolean inFlight() {
        return pending != null;
    }
}
