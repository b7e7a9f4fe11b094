package com.perseusproxy.core.tenant;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Looks tenants up in Perseus's {@code perseus_auth} table through a JDBC pool. Every lookup reads the table afresh,
 * so a changed row takes effect at the next login with no restart.
 */
public final class JdbcTenantDirectory implements TenantDirectory {

    static final String QUERY = "SELECT id, source_db, source_schema, source_user, source_pass_hashed, dest_host, "
            + "dest_db, dest_pass_enc, dest_user FROM perseus_auth WHERE source_db = ? AND source_schema = ?";

    private final DataSource dataSource;
    private final int queryTimeoutSecs;

    /**
     * @param queryTimeoutSecs bound on the lookup query ({@code AuthQueryTimeoutSecs}); a slow auth database fails
     *                         logins instead of piling them up
     */
    public JdbcTenantDirectory(DataSource dataSource, int queryTimeoutSecs) {
        if (queryTimeoutSecs < 1) {
            throw new IllegalArgumentException("AuthQueryTimeoutSecs must be at least 1, got " + queryTimeoutSecs);
        }
        this.dataSource = dataSource;
        this.queryTimeoutSecs = queryTimeoutSecs;
    }

    @Override
    public Optional<TenantRecord> find(String database, String schema) throws TenantLookupException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(QUERY)) {
            statement.setQueryTimeout(queryTimeoutSecs);
            statement.setString(1, database);
            statement.setString(2, schema);
            try (ResultSet rows = statement.executeQuery()) {
                if (!rows.next()) {
                    return Optional.empty();
                }
                return Optional.of(new TenantRecord(rows.getLong("id"), rows.getString("source_db"),
                        rows.getString("source_schema"), rows.getString("source_user"),
                        rows.getString("source_pass_hashed"), rows.getString("dest_host"), rows.getString("dest_db"),
                        rows.getString("dest_pass_enc"), rows.getString("dest_user")));
            }
        } catch (SQLException e) {
            // The tenant names come from the client and are left out: the caller logs them, sanitised.
            throw new TenantLookupException("the auth database could not answer a tenant lookup: "
                    + DsnRedaction.scrub(e.getMessage()) + sqlState(e)
                    + "; check that the database in AuthDBSettings.AuthDBDSN is up and has the perseus_auth table",
                    e);
        }
    }

    private static String sqlState(SQLException e) {
        return e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")";
    }
}
