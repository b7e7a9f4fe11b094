package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.BackendLoginException;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The candidate order and the re-read, against a fake server that accepts a given set of passwords. */
class BackendLoginAttemptTest {

    static final Destination DEST = new Destination("db", 5432, "app", "app");
    static final BackendCredentials OLD = new BackendCredentials("app", "old-pw");
    static final BackendCredentials NEW = new BackendCredentials("app", "new-pw");
    static final BackendCredentials NEWER = new BackendCredentials("app", "newer-pw");

    final EventLoop loop = new DefaultEventLoop();
    final List<BackendCredentials> tried = new ArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    /** Runs one attempt on the loop against a server that accepts {@code accepted}; null result means success. */
    private Throwable attempt(CredentialSet set, CredentialSource source, Set<BackendCredentials> accepted)
            throws Exception {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        loop.execute(() -> new BackendLoginAttempt(DEST, loop, set, source, c -> {
            tried.add(c);
            Promise<BackendConnection> p = loop.newPromise();
            if (accepted.contains(c)) {
                p.setSuccess(null);
            } else {
                p.setFailure(new BackendLoginException(DEST, "28P01",
                        "password authentication failed for user \"app\""));
            }
            return p;
        }).run().addListener((Future<BackendConnection> f) -> outcome.complete(f.cause())));
        return outcome.get(10, TimeUnit.SECONDS);
    }

    @Test
    void alterRoleFirstThenRowUpdatedReachesTheNewPasswordThroughTheReRead() throws Exception {
        CredentialSet set = new CredentialSet(OLD);
        set.worked(OLD);
        Throwable failure = attempt(set, d -> CompletableFuture.completedFuture(List.of(NEW)), Set.of(NEW));
        assertEquals(null, failure);
        assertEquals(List.of(OLD, NEW), tried);
        assertEquals(NEW, set.current(), "the one that worked is remembered");
    }

    @Test
    void rowUpdatedFirstKeepsUsingTheOldPasswordUntilItIsRefused() throws Exception {
        CredentialSet set = new CredentialSet(OLD);
        set.worked(OLD);
        set.offerLatest(NEW);
        assertEquals(null, attempt(set, CredentialSource.NONE, Set.of(OLD, NEW)));
        assertEquals(List.of(OLD), tried);
        tried.clear();
        assertEquals(null, attempt(set, CredentialSource.NONE, Set.of(NEW))); // ALTER ROLE ran
        assertEquals(List.of(OLD, NEW), tried);
        assertEquals(NEW, set.current());
    }

    @Test
    void nothingWorksNamesTheDestinationAndNoSecret() throws Exception {
        CredentialSet set = new CredentialSet(OLD);
        Throwable failure = attempt(set, d -> CompletableFuture.completedFuture(List.of(OLD, NEWER)), Set.of());
        assertEquals(List.of(OLD, NEWER), tried, "each value tried once, the re-read only once");
        PgException e = (PgException) failure;
        assertEquals("08004", e.sqlState());
        assertTrue(e.getMessage().contains(DEST.toString()) && e.getMessage().contains("dest_pass_enc")
                && e.getMessage().contains("password authentication failed"), e.getMessage());
        for (BackendCredentials c : List.of(OLD, NEWER)) {
            assertFalse(e.getMessage().contains(c.password()), e.getMessage());
        }
    }

    @Test
    void otherFailuresEndTheAttemptWithoutTryingMorePasswords() throws Exception {
        CredentialSet set = new CredentialSet(OLD);
        set.offerLatest(NEW);
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        loop.execute(() -> new BackendLoginAttempt(DEST, loop, set, CredentialSource.NONE, c -> {
            tried.add(c);
            return loop.<BackendConnection>newPromise().setFailure(new PgException("08001", "connection refused"));
        }).run().addListener((Future<BackendConnection> f) -> outcome.complete(f.cause())));
        assertEquals("08001", ((PgException) outcome.get(10, TimeUnit.SECONDS)).sqlState());
        assertEquals(1, tried.size());
    }
}
