package com.perseusproxy.core.statements;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.ReplyQueue.Completion;
import com.perseusproxy.core.backend.ReplyQueue.Expected;
import com.perseusproxy.core.backend.ReplyQueue.Outcome;
import com.perseusproxy.core.backend.SessionSettings;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.BackendTag;
import com.perseusproxy.core.protocol.ExtendedQueryMessages;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.PgProtocolException;
import com.perseusproxy.core.protocol.ServerMessages;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.function.Supplier;

/**
 * Makes a client's named prepared statements work in transaction pooling, where each transaction may run on another
 * backend: client statement names are mapped to backend statements named after tenant and definition
 * ({@link ClientStatements}), created on whichever backend a transaction gets, and shared by the tenant's clients.
 *
 * <ul>
 *   <li>Parse of a new name: answered by the proxy if the backend already has the statement, else sent renamed.</li>
 *   <li>Parse of a name the client holds: PostgreSQL's {@code 42P05} error, and the backend skips to the client's
 *       Sync as PostgreSQL would (the proxy sends it a Parse that is sure to fail, and replaces its error).</li>
 *   <li>Bind and Describe of a statement: renamed; preceded by a swallowed Parse if the backend lacks it.</li>
 *   <li>Close of a statement: frees only the client's name; the proxy answers CloseComplete.</li>
 *   <li>Unnamed statements, portals and names the client never parsed pass through untouched (PostgreSQL then reports
 *       an unknown name itself).</li>
 * </ul>
 *
 * Outside a transaction, a Parse of a statement the pool has already parsed, a Close of a client name, and the Sync
 * ending such a group are answered without taking a backend at all ({@link #answerWithoutBackend}).
 *
 * <p>Each backend keeps at most the configured number of statements, closing the least recently used. Every Parse sent
 * to a backend is preceded by a Close of the same name, so a backend that still holds a statement the proxy lost
 * track of (a skipped Close, a client's own DEALLOCATE) cannot make it fail with "already exists". All replies reach
 * the client in the order it sent its messages: see {@link com.perseusproxy.core.backend.ReplyQueue}.
 */
public final class PreparedStatementRouter {

    /** A Parse that can only fail (a syntax error), used to make the backend skip to Sync like PostgreSQL would. */
    private static final byte[] FAILING_DEFINITION = {'!', 0, 0, 0};
    private static final String FAILING_NAME = ClientStatements.BACKEND_PREFIX + "duplicate_name";

    private final ClientStatements statements;
    /** The client's pool now: an account switch may move its next transaction to another. */
    private final Supplier<BackendPool> pool;
    private final ByteBufAllocator alloc;
    /** Messages since the last ReadyForQuery were all answered without a backend; a Sync now ends the group. */
    private boolean groupAnsweredLocally;

    /**
     * @param searchPath the statement that points this client's sessions at its schema (part of statement keys)
     * @param pool       the client's current pool: its counters, its known statements, and its settings
     *                   (PoolSettings.MaxPreparedStatements is read at each use, so a reload applies at once)
     */
    public PreparedStatementRouter(String searchPath, Supplier<BackendPool> pool, ByteBufAllocator alloc) {
        this.statements = new ClientStatements(searchPath);
        this.pool = pool;
        this.alloc = alloc;
    }

    /**
     * Between transactions (no backend leased, the last ReadyForQuery said idle): answers the message itself if it can
     * - a Parse of a statement the pool knows, a Close of a client name, a Flush or Sync ending a group of such - so
     * the client needs no backend for it.
     *
     * @return true if answered (the message is released), false if it needs a backend: then the rest of the group
     *         goes to the backend too, and earlier answers stay valid because they were written first
     */
    public boolean answerWithoutBackend(PgMessage message, Channel client) {
        boolean answered;
        try {
            answered = switch (message.tag()) {
                case FrontendTag.PARSE -> parseKnownStatement(message, client);
                case FrontendTag.CLOSE -> closeClientName(message, client);
                case FrontendTag.FLUSH -> groupAnsweredLocally;
                case FrontendTag.SYNC -> groupAnsweredLocally;
                default -> false;
            };
        } catch (PgProtocolException malformed) {
            answered = false; // the backend path lets PostgreSQL judge it
        }
        if (!answered) {
            groupAnsweredLocally = false;
            return false;
        }
        if (message.tag() == FrontendTag.SYNC) {
            client.writeAndFlush(ServerMessages.readyForQuery(client.alloc(), 'I'));
            groupAnsweredLocally = false;
        } else {
            if (message.tag() == FrontendTag.FLUSH) {
                client.flush();
            }
            groupAnsweredLocally = true;
        }
        message.release();
        return true;
    }

    private boolean parseKnownStatement(PgMessage message, Channel client) {
        if (ExtendedQueryMessages.parsesUnnamed(message)) {
            return false;
        }
        ExtendedQueryMessages.Parse parse = ExtendedQueryMessages.readParse(message);
        if (statements.get(parse.name()) != null) {
            return false; // 42P05, which makes the backend skip to Sync: needs the backend
        }
        ClientStatements.Definition definition = statements.define(parse.definition());
        if (!pool.get().knownStatements().isKnown(definition.backendName)) {
            return false;
        }
        pool.get().stats().clientParsed();
        statements.parsing(parse.name(), definition);
        statements.settled(definition);
        client.write(ExtendedQueryMessages.parseComplete());
        return true;
    }

    private boolean closeClientName(PgMessage message, Channel client) {
        ExtendedQueryMessages.Target target = ExtendedQueryMessages.readTarget(message);
        if (!target.isNamedStatement() || statements.close(target.name()) == null) {
            return false;
        }
        client.write(ExtendedQueryMessages.closeComplete());
        return true;
    }

    /** Sends one client message to its leased backend, rewritten as needed (ownership passes). */
    public void forward(PgMessage message, BackendConnection backend) {
        groupAnsweredLocally = false;
        boolean handled;
        try {
            handled = switch (message.tag()) {
                case FrontendTag.PARSE -> onParse(message, backend);
                case FrontendTag.BIND -> onBind(message, backend);
                case FrontendTag.DESCRIBE -> onDescribe(message, backend);
                case FrontendTag.CLOSE -> onClose(message, backend);
                default -> false;
            };
        } catch (PgProtocolException malformed) {
            // Nothing was sent for it yet: let PostgreSQL judge the message, as it would without the proxy.
            handled = false;
        }
        if (handled) {
            message.release();
        } else {
            backend.sendFromClient(message);
        }
    }

    /** Sees each backend message on its way to the client. */
    public void onBackendMessage(PgMessage message) {
        if (message.tag() == BackendTag.COMMAND_COMPLETE
                && SessionSettings.dropsPreparedStatements(MessageReader.commandTag(message))) {
            statements.clearSettled(); // the client's DEALLOCATE ALL or DISCARD ALL
        }
    }

    // ---- the four messages that name statements ---------------------------------------------------------------

    /** @return true if handled (the original is no longer needed), false to forward it untouched */
    private boolean onParse(PgMessage message, BackendConnection backend) {
        if (ExtendedQueryMessages.parsesUnnamed(message)) {
            return false;
        }
        ExtendedQueryMessages.Parse parse = ExtendedQueryMessages.readParse(message);
        String name = parse.name();
        KnownStatements known = pool.get().knownStatements();
        pool.get().stats().clientParsed();
        if (statements.get(name) != null) {
            String text = "prepared statement \"" + name + "\" already exists";
            backend.sendForClient(FrontendTag.PARSE,
                    ExtendedQueryMessages.parse(alloc, FAILING_NAME, FAILING_DEFINITION),
                    Expected.replaceError(Completion.PARSE,
                            a -> ServerMessages.errorResponse(a, "ERROR", "42P05", text)));
            return true;
        }
        ClientStatements.Definition definition = statements.define(parse.definition());
        statements.parsing(name, definition);
        Outcome outcome = new Outcome() {
            @Override
            public void completed() {
                statements.settled(definition);
                known.parsed(definition.backendName);
            }

            @Override
            public void failed(String sqlState) {
                backend.statements().remove(definition.backendName);
                statements.forget(name, definition);
            }

            @Override
            public void skipped() {
                failed(null);
            }
        };
        if (backend.statements().use(definition.backendName, known.version(definition.backendName))) {
            // Prepared on this backend already (by this tenant, maybe another of its clients): nothing to send.
            backend.sendForClient(FrontendTag.PARSE, null,
                    Expected.answer(Completion.PARSE, a -> ExtendedQueryMessages.parseComplete(), new Outcome() {
                        @Override
                        public void completed() {
                            statements.settled(definition);
                        }

                        @Override
                        public void skipped() {
                            statements.forget(name, definition);
                        }
                    }));
        } else {
            makeRoom(backend, definition.backendName);
            backend.sendForClient(FrontendTag.PARSE, parseOnBackend(definition),
                    Expected.forwardParse(definition.backendName, outcome));
        }
        return true;
    }

    private boolean onBind(PgMessage message, BackendConnection backend) {
        if (ExtendedQueryMessages.bindsUnnamed(message)) {
            return false; // the common case: no name to map (UnnamedStatement saw it)
        }
        ExtendedQueryMessages.Bind bind = ExtendedQueryMessages.readBind(message);
        ClientStatements.Definition definition = bind.statement().isEmpty() ? null : statements.get(bind.statement());
        if (definition == null) {
            return false;
        }
        ensurePrepared(backend, definition);
        backend.sendForClient(FrontendTag.BIND,
                ExtendedQueryMessages.renameBind(alloc, message, bind, definition.backendName),
                Expected.forward(Completion.BIND, distrustOnFailure(backend, definition.backendName)));
        return true;
    }

    private boolean onDescribe(PgMessage message, BackendConnection backend) {
        if (!ExtendedQueryMessages.targetsStatement(message, false)) {
            return false; // a portal or the unnamed statement: nothing to map
        }
        ExtendedQueryMessages.Target target = ExtendedQueryMessages.readTarget(message);
        ClientStatements.Definition definition = target.isNamedStatement() ? statements.get(target.name()) : null;
        if (definition == null) {
            return false;
        }
        ensurePrepared(backend, definition);
        backend.sendForClient(FrontendTag.DESCRIBE,
                ExtendedQueryMessages.describeStatement(alloc, definition.backendName),
                Expected.forward(Completion.DESCRIBE, distrustOnFailure(backend, definition.backendName)));
        return true;
    }

    private boolean onClose(PgMessage message, BackendConnection backend) {
        if (!ExtendedQueryMessages.targetsStatement(message, false)) {
            return false; // a portal or the unnamed statement: PostgreSQL's business
        }
        ExtendedQueryMessages.Target target = ExtendedQueryMessages.readTarget(message);
        ClientStatements.Definition definition = target.isNamedStatement() ? statements.close(target.name()) : null;
        if (definition == null) {
            return false; // a portal, the unnamed statement, or a name the client never parsed: PostgreSQL's business
        }
        // Other clients of the tenant may use the backend statement: it stays until evicted.
        String name = target.name();
        backend.sendForClient(FrontendTag.CLOSE, null,
                Expected.answer(Completion.CLOSE, a -> ExtendedQueryMessages.closeComplete(), new Outcome() {
                    @Override
                    public void skipped() {
                        statements.restore(name, definition);
                    }
                }));
        return true;
    }

    // ---- backend statements ------------------------------------------------------------------------------------

    /** Before a Bind or Describe: prepares the statement on this backend if it lacks it, swallowing the reply. */
    private void ensurePrepared(BackendConnection backend, ClientStatements.Definition definition) {
        String backendName = definition.backendName;
        KnownStatements known = pool.get().knownStatements();
        if (backend.statements().use(backendName, known.version(backendName))) {
            return;
        }
        makeRoom(backend, backendName);
        // If this Parse fails, its error reaches the client in place of its Bind's (which the backend then skips).
        backend.sendOwn(parseOnBackend(definition), Expected.swallow(Completion.PARSE, backendName, new Outcome() {
            @Override
            public void completed() {
                known.parsed(backendName);
            }

            @Override
            public void failed(String sqlState) {
                backend.statements().remove(backendName);
            }

            @Override
            public void skipped() {
                backend.statements().remove(backendName);
            }
        }));
    }

    /**
     * Records {@code backendName} as prepared on the backend, closes what the limit evicts, and closes the name itself
     * in case the backend still holds it unknown to the proxy (closing a missing statement is not an error).
     */
    private void makeRoom(BackendConnection backend, String backendName) {
        BackendStatements prepared = backend.statements();
        int version = pool.get().knownStatements().version(backendName);
        for (String evicted : prepared.add(backendName, version, pool.get().settings().maxPreparedStatements())) {
            backend.sendOwn(ExtendedQueryMessages.closeStatement(alloc, evicted),
                    Expected.swallow(Completion.CLOSE, null, new Outcome() {
                        @Override
                        public void skipped() {
                            prepared.restore(evicted); // still there after all
                        }
                    }));
        }
        backend.sendOwn(ExtendedQueryMessages.closeStatement(alloc, backendName),
                Expected.swallow(Completion.CLOSE, null, Outcome.NONE));
    }

    private ByteBuf parseOnBackend(ClientStatements.Definition definition) {
        pool.get().stats().serverParsed();
        return ExtendedQueryMessages.parse(alloc, definition.backendName, definition.body);
    }

    /**
     * When a Bind or Describe of a backend statement fails because the statement is missing there (26000: someone
     * deallocated it), the proxy forgets it on that backend; when its plan went stale ("cached plan must not change
     * result type" after DDL, 0A000), on every backend of the pool. The next use prepares it afresh (Close + Parse).
     */
    private Outcome distrustOnFailure(BackendConnection backend, String backendName) {
        KnownStatements known = pool.get().knownStatements();
        return new Outcome() {
            @Override
            public void failed(String sqlState) {
                if ("26000".equals(sqlState)) {
                    backend.statements().remove(backendName);
                } else if ("0A000".equals(sqlState)) {
                    known.invalidate(backendName);
                }
            }
        };
    }
}
