package com.perseusproxy.core.backend;

/**
 * What the proxy runs on a backend session before it serves a different tenant, and why.
 *
 * <p>Why not guess: most session state completes with a {@code SELECT} command tag ({@code set_config(..., false)},
 * {@code CREATE TEMP TABLE ... AS}, {@code pg_advisory_lock()}, {@code set_config('role', ...)}, {@code nextval()}),
 * so no inspection of the traffic can tell whether a tenant left something behind. Isolation therefore depends only
 * on who used the session last: a backend that changes tenant is always reset, whatever happened on it.
 *
 * <p>Why not {@code DISCARD ALL}: it also drops the proxy's own named prepared statements, which are already kept
 * apart per tenant (their names are derived from the search_path), and re-preparing them costs every tenant switch
 * a round of Parses. The reset below is {@code DISCARD ALL} minus {@code DEALLOCATE ALL}: it deallocates only the
 * statements a client made with SQL {@code PREPARE} ({@code from_sql}), and keeps the protocol-level ones.
 *
 * <p>Why these statements: {@code RESET ALL} skips the role and the session authorization, so both are reset on
 * their own; {@code CLOSE ALL} drops WITH HOLD cursors before {@code DISCARD TEMP}; {@code DISCARD SEQUENCES}
 * forgets {@code currval}. The whole string is one simple Query, so it runs as one implicit transaction: it either
 * all happens or the backend reports an error, and then the connection is closed and never serves anyone.
 */
public final class SessionReset {

    /**
     * Every kind of session state except the proxy's protocol-level prepared statements, and a count of the
     * statements a client made with SQL {@code PREPARE}. Counting is a plain query; deallocating them needs the
     * {@code DO} block of {@link #DEALLOCATE_SQL_PREPARED}, which costs about 0.15 ms of server time to compile and run
     * (more than all the other statements together, measured with pgbench on PostgreSQL 15), so it is sent only when
     * the count is not 0 - almost never, since few applications use SQL PREPARE.
     */
    static final String SQL = "CLOSE ALL;"
            + "UNLISTEN *;"
            + "SELECT pg_catalog.pg_advisory_unlock_all();"
            + "DISCARD TEMP;"
            + "DISCARD SEQUENCES;"
            + "SET SESSION AUTHORIZATION DEFAULT;"
            + "RESET ALL;"
            + "RESET ROLE;"
            + "SELECT pg_catalog.count(*) AS perseus_sql_prepared FROM pg_catalog.pg_prepared_statements"
            + " WHERE from_sql;";

    /** Deallocates the statements a client made with SQL {@code PREPARE}, and only those. */
    static final String DEALLOCATE_SQL_PREPARED = "DO $perseus_reset$ DECLARE s text; BEGIN"
            + " FOR s IN SELECT name FROM pg_catalog.pg_prepared_statements WHERE from_sql LOOP"
            + " EXECUTE pg_catalog.format('DEALLOCATE %I', s); END LOOP; END $perseus_reset$";

    private SessionReset() {
    }

    /**
     * Whether a DataRow of the reset's replies is the count of SQL-prepared statements and is not 0. The reset's only
     * other row, {@code pg_advisory_unlock_all()}'s, holds an empty value (the function returns void).
     */
    static boolean sqlPreparedLeft(com.perseusproxy.core.protocol.PgMessage dataRow) {
        io.netty.buffer.ByteBuf row = dataRow.payload();
        if (row.readableBytes() < 6 || row.readShort() != 1) {
            return false;
        }
        int length = row.readInt();
        if (length <= 0 || length > row.readableBytes()) {
            return false;
        }
        for (int i = 0; i < length; i++) {
            byte digit = row.readByte();
            if (digit < '0' || digit > '9') {
                return false;
            }
            if (digit != '0') {
                return true;
            }
        }
        return false;
    }

    /**
     * The reset followed by the tenant's search_path and {@code settingsSql} (the client's settings that differ from
     * what the reset leaves, ';'-terminated, or ""), as one simple Query string.
     */
    static String forTenant(String searchPathSql, String settingsSql) {
        return settingsSql.isEmpty() ? SQL + searchPathSql : SQL + searchPathSql + ";" + settingsSql;
    }

    /**
     * Command tags after which the same tenant's next lease re-sends its search_path and settings: the client may
     * have changed them (a SET or RESET of its own, or a DISCARD ALL that returned everything to the login values).
     * This is not an isolation check - a tenant can change its own session invisibly, which is ordinary
     * transaction-pooling behaviour - only a cheap way to repair the common visible case.
     */
    static boolean mayChangeSearchPathOrSettings(String commandTag) {
        return commandTag.equals("SET") || commandTag.equals("RESET") || commandTag.equals("DISCARD ALL");
    }
}
