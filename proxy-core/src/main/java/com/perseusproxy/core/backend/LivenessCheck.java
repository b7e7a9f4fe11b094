package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.PgException;
import io.netty.util.concurrent.Future;
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
     * Checks that the server still answers: an empty query, which PostgreSQL answers with EmptyQueryResponse and
     * ReadyForQuery without parsing or planning anything (PgBouncer's server_check_query default is also empty). The
     * future fails at once unless the connection is {@code idle} (and open), and later if the server answers
     * otherwise, closes, or stays silent for {@code timeout}; the connection is then closed. {@code sendEmptyQuery}
     * sends the query.
     */
    Future<BackendConnection> check(Duration timeout, boolean idle, Runnable sendEmptyQuery) {
        Promise<BackendConnection> result = connection.channel().eventLoop().newPromise();
        if (!idle || !connection.channel().isActive()) {
            result.setFailure(new PgException("08006", "backend " + connection.destination() + " is not idle"));
            return result;
        }
        pending = result;
        sendEmptyQuery.run();
        ScheduledFuture<?> deadline = connection.channel().eventLoop().schedule(() -> failed("no answer within "
                + timeout.toMillis() + " ms"), timeout.toMillis(), TimeUnit.MILLISECONDS);
        result.addListener(f -> deadline.cancel(false));
        return result;
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
