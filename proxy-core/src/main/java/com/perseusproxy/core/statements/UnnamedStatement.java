package com.perseusproxy.core.statements;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.ReplyQueue.Completion;
import com.perseusproxy.core.backend.ReplyQueue.Expected;
import com.perseusproxy.core.backend.ReplyQueue.Outcome;
import com.perseusproxy.core.protocol.ExtendedQueryMessages;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.PgProtocolException;
import io.netty.buffer.ByteBufAllocator;

/**
 * Gives one client PostgreSQL's guarantee for the unnamed prepared statement in transaction pooling: it lasts until
 * the client's next Parse("") or simple Query, even across Sync groups that run on different backends.
 *
 * <p>Why it matters: vertx-pg-client sends {@code Parse("")/Describe/Sync}, then {@code Bind("")/Execute/Sync} as a
 * second group. Between the two the backend may be released and leased to another client, or re-pointed with a
 * {@code SET search_path} (a simple Query, which drops the unnamed statement), and the Bind would fail with
 * {@code 26000}. So the proxy keeps the client's last Parse("") and, when a Bind("") or Describe of the unnamed
 * statement arrives on a backend that may not hold <em>this client's</em> statement, sends that Parse again first
 * and swallows its ParseComplete (an error reaches the client in place of the Bind's, as for named statements).
 *
 * <p>Why it cannot leak: each backend remembers whose Parse("") it ran last ({@link BackendStatements#holdsUnnamed},
 * compared by identity, so two clients never match), and anything that may replace or drop it - another client's
 * Parse(""), any simple Query including the proxy's own, a failed or skipped Parse - makes it nobody's. A client that
 * binds the unnamed statement without having one gets a Close of the unnamed statement sent first, so it sees
 * PostgreSQL's own {@code 26000} rather than whatever another client left on the backend.
 *
 * <p>The common case costs nothing: a Bind("") in the group of its own Parse("") (pgjdbc, libpq) finds the backend
 * holding the client's statement and is forwarded untouched. Runs on the client's event loop.
 */
public final class UnnamedStatement {

    /** One Parse("") of the client: the rest of its body (query text, parameter types); its identity is the token. */
    private static final class Parsed {
        final byte[] body;

        Parsed(byte[] body) {
            this.body = body;
        }
    }

    private final ByteBufAllocator alloc;
    /** What the client's unnamed statement is now, as PostgreSQL would have it; null when it has none. */
    private Parsed current;

    public UnnamedStatement(ByteBufAllocator alloc) {
        this.alloc = alloc;
    }

    /**
     * Sees each client message before it goes to {@code backend}; may send a Parse or Close of its own first.
     *
     * @return true if it sent the message itself (ownership taken), false if the caller sends it
     */
    public boolean forward(PgMessage message, BackendConnection backend) {
        try {
            return route(message, backend);
        } catch (PgProtocolException malformed) {
            return false; // nothing sent for it yet: PostgreSQL judges the message, as it would without the proxy
        }
    }

    private boolean route(PgMessage message, BackendConnection backend) {
        switch (message.tag()) {
            case FrontendTag.PARSE -> {
                if (ExtendedQueryMessages.parsesUnnamed(message)) {
                    sendParse(message, backend);
                    return true;
                }
            }
            case FrontendTag.BIND -> {
                if (ExtendedQueryMessages.bindsUnnamed(message)) {
                    ensureOnBackend(backend);
                }
            }
            case FrontendTag.DESCRIBE, FrontendTag.CLOSE -> {
                if (ExtendedQueryMessages.targetsStatement(message, true)) {
                    if (message.tag() == FrontendTag.DESCRIBE) {
                        ensureOnBackend(backend);
                    } else {
                        current = null; // the client closed it; the Close goes through and drops it there too
                        backend.statements().unnamedDropped();
                    }
                }
            }
            case FrontendTag.QUERY -> current = null; // PostgreSQL drops the unnamed statement at every simple Query
            default -> {
            }
        }
        return false;
    }

    private void sendParse(PgMessage message, BackendConnection backend) {
        Parsed previous = current;
        Parsed parsed = new Parsed(ExtendedQueryMessages.readParse(message).definition());
        current = parsed;
        BackendStatements statements = backend.statements();
        statements.unnamedParsed(parsed);
        backend.sendForClient(FrontendTag.PARSE, message.frame(), Expected.forward(Completion.PARSE, new Outcome() {
            @Override
            public void failed(String sqlState) {
                // PostgreSQL dropped the previous unnamed statement before parsing this one.
                statements.unnamedDropped(parsed);
                if (current == parsed) {
                    current = null;
                }
            }

            @Override
            public void skipped() {
                // An earlier error made the backend skip it: the client's previous statement still stands there.
                statements.unnamedDropped(parsed);
                if (current == parsed) {
                    current = previous;
                }
            }
        }));
    }

    /** Before a Bind or Describe of the unnamed statement: makes the backend hold this client's, or none at all. */
    private void ensureOnBackend(BackendConnection backend) {
        BackendStatements statements = backend.statements();
        Parsed parsed = current;
        if (statements.holdsUnnamed(parsed)) {
            return;
        }
        if (parsed == null) {
            // Whatever unnamed statement the backend holds is not this client's: drop it, so PostgreSQL answers 26000.
            backend.sendOwn(ExtendedQueryMessages.closeStatement(alloc, ""),
                    Expected.swallow(Completion.CLOSE, null, Outcome.NONE));
            statements.unnamedDropped();
            return;
        }
        statements.unnamedParsed(parsed);
        backend.sendOwn(ExtendedQueryMessages.parse(alloc, "", parsed.body),
                Expected.swallow(Completion.PARSE, null, new Outcome() {
                    @Override
                    public void failed(String sqlState) {
                        statements.unnamedDropped(parsed);
                    }

                    @Override
                    public void skipped() {
                        statements.unnamedDropped(parsed);
                    }
                }));
    }
}
