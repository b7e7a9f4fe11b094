package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.BackendLoginException;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens one backend connection, trying the pool's candidate credentials in turn:
 * <pre>
 *   candidates (last worked, perseus_auth now, ...) ── each refused (28P01/28000) ──► next
 *   all refused ──► re-read the destination's rows, decrypt afresh ──► try the values not yet tried, once
 *   one works ──► remembered first for the next logins
 * </pre>
 * Only authentication refusals move on to the next candidate: any other failure (server down, timeout) ends the
 * attempt at once, since another password would not help. Attempts are sequential, so a pool never has more than one
 * login of this attempt in flight. Runs on the pool's event loop.
 */
final class BackendLoginAttempt {

    private static final Logger log = LoggerFactory.getLogger(BackendLoginAttempt.class);

    private final Destination destination;
    private final EventLoop loop;
    private final CredentialSet credentials;
    private final CredentialSource source;
    private final Function<BackendCredentials, Future<BackendConnection>> connect;
    private final Promise<BackendConnection> result;
    private final List<BackendCredentials> tried = new ArrayList<>();
    private ArrayDeque<BackendCredentials> queue;
    private boolean reloaded;
    private BackendLoginException lastRefusal;
    private boolean latestFirst;

    /**
     * @param connect opens one connection with the given credentials (counted by the pool as one server login)
     */
    BackendLoginAttempt(Destination destination, EventLoop loop, CredentialSet credentials, CredentialSource source,
                        Function<BackendCredentials, Future<BackendConnection>> connect) {
        this.destination = destination;
        this.loop = loop;
        this.credentials = credentials;
        this.source = source;
        this.connect = connect;
        this.result = loop.newPromise();
    }

    /** Tries the latest credentials first (a {@link CredentialProbe}); the others follow as usual. */
    BackendLoginAttempt latestFirst(boolean value) {
        this.latestFirst = value;
        return this;
    }

    Future<BackendConnection> run() {
        queue = new ArrayDeque<>(credentials.candidates(latestFirst));
        tryNext();
        return result;
    }

    private void tryNext() {
        BackendCredentials next = queue.poll();
        if (next == null) {
            if (reloaded) {
                result.tryFailure(nothingWorks());
            } else {
                reloadFromAuthDatabase();
            }
            return;
        }
        tried.add(next);
        connect.apply(next).addListener(f -> {
            if (f.isSuccess()) {
                if (tried.size() > 1) {
                    log.info("pool {}: logged in with {} after {} refused credentials; using it first from now on",
                            destination, next, tried.size() - 1);
                }
                credentials.worked(next);
                result.trySuccess((BackendConnection) f.getNow());
            } else if (f.cause() instanceof BackendLoginException refused && refused.credentialsRefused()) {
                lastRefusal = refused;
                log.info("pool {}: the server refused credentials {} (SQLSTATE {}); trying the next candidate",
                        destination, next, refused.backendSqlState());
                tryNext();
            } else {
                result.tryFailure(f.cause());
            }
        });
    }

    /** Every known candidate was refused: perseus_auth may have changed since it was last read. */
    private void reloadFromAuthDatabase() {
        reloaded = true;
        source.reload(destination).whenComplete((values, error) -> loop.execute(() -> {
            if (error != null) {
                log.warn("pool {}: could not re-read its credentials from perseus_auth: {}", destination,
                        error.getMessage());
                result.tryFailure(nothingWorks());
                return;
            }
            credentials.offerReloaded(values);
            for (BackendCredentials value : values) {
                if (!tried.contains(value)) {
                    queue.add(value);
                }
            }
            if (queue.isEmpty()) {
                log.info("pool {}: perseus_auth holds no credentials other than the {} refused", destination,
                        tried.size());
            }
            tryNext();
        }));
    }

    /** Names the destination and what to do; never a secret (credentials appear as fingerprints only). */
    private PgException nothingWorks() {
        String serverSaid = lastRefusal == null ? "" : " (the server said: " + serverMessage(lastRefusal) + ")";
        return new PgException("08004", "the proxy cannot log in to backend " + destination + ": the server refused"
                + " all " + tried.size() + " credentials known for it" + serverSaid + ". The operator must make"
                + " dest_user/dest_pass_enc in perseus_auth match the role's password (ALTER ROLE ... PASSWORD);"
                + " the proxy retries by itself with backoff, so reconnect shortly", true, null);
    }

    private static String serverMessage(BackendLoginException e) {
        String message = e.getMessage();
        int start = message.indexOf(": ");
        int end = message.indexOf(" - the operator");
        return message.substring(start < 0 ? 0 : start + 2, end < 0 ? message.length() : end);
    }
}
