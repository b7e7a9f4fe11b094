package com.perseusproxy.core.statements;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import java.util.function.Supplier;

/**
 * One client's messages on their way to whichever backend it leases, as far as prepared statements are concerned:
 * its unnamed statement kept alive across Sync groups and backends ({@link UnnamedStatement}), its named ones given
 * the names they have on the backends ({@link PreparedStatementRouter}, only when PoolSettings.MaxPreparedStatements
 * is above 0). Everything else passes straight to the backend. Runs on the client's event loop.
 */
public final class StatementForwarding {

    private final UnnamedStatement unnamed;
    private final ByteBufAllocator alloc;
    /** Null when PoolSettings.MaxPreparedStatements is 0: named statements then go to the backend as they are. */
    private PreparedStatementRouter named;

    public StatementForwarding(ByteBufAllocator alloc) {
        this.alloc = alloc;
        this.unnamed = new UnnamedStatement(alloc);
    }

    /**
     * The login chose its pool: named statements are renamed for it when the pool allows them.
     *
     * @param pool the session's pool now (it may change at an account switch)
     */
    public void routed(BackendPool loginPool, Supplier<BackendPool> pool, String searchPathSql) {
        if (loginPool.settings().maxPreparedStatements() > 0) {
            named = new PreparedStatementRouter(searchPathSql, pool, alloc);
        }
    }

    /** A message between transactions that the proxy can answer itself (a Parse of a statement it knows...). */
    public boolean answerWithoutBackend(PgMessage message, Channel client) {
        return named != null && named.answerWithoutBackend(message, client);
    }

    /** Sends one client message (ownership passes) to the leased backend, with what the statements need first. */
    public void forward(PgMessage message, BackendConnection backend) {
        if (unnamed.forward(message, backend)) {
            return;
        }
        if (named != null) {
            named.forward(message, backend);
        } else {
            backend.sendFromClient(message);
        }
    }

    /** Sees each backend message on its way to the client (a DEALLOCATE ALL or DISCARD ALL forgets the names). */
    public void onBackendMessage(PgMessage message) {
        if (named != null) {
            named.onBackendMessage(message);
        }
    }
}
