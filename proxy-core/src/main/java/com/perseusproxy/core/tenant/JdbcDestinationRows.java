package com.perseusproxy.core.tenant;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The {@code perseus_auth} rows that send tenants to one backend account, read when a pool has to look for new
 * credentials (every one it knew was refused). Filtered by {@code dest_db} and {@code dest_user} here; the caller
 * compares {@code dest_host}, which may be written with or without its port.
 */
public final class JdbcDestinationRows {

    static final String QUERY = "SELECT id, source_db, source_schema, source_user, source_pass_hashed, dest_host, "
            + "dest_db, dest_pass_enc, dest_user FROM perseus_auth WHERE dest_db = ? AND dest_user = ? ORDER BY id";

    private final DataSource dataSource;
    private final int queryTimeoutSecs;

    public JdbcDestinationRows(DataSource dataSource, int queryTimeoutSecs) {
        this.dataSource = dataSource;
        this.queryTimeoutSecs = Math.max(1, queryTimeoutSecs);
    }

    public List<TenantRecord> find(String destDb, String destUser) throws TenantLookupException {
        try (Connection connection = dataSource.getConnection();
             PreparedStatement statement = connection.prepareStatement(QUERY)) {
            statement.setQueryTimeout(queryTimeoutSecs);
            statement.setString(1, destDb);
            statement.setString(2, destUser);
            List<TenantRecord> rows = new ArrayList<>();
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    rows.add(new TenantRecord(rs.getLong("id"), rs.getString("source_db"),
                            rs.getString("source_schema"), rs.getString("source_user"),
                            rs.getString("source_pass_hashed"), rs.getString("dest_host"), rs.getString("dest_db"),
                            rs.getString("dest_pass_enc"), rs.getString("dest_user")));
                }
            }
            return rows;
        } catch (SQLException e) {
            throw new TenantLookupException("the auth database could not list the rows of a destination: "
                    + DsnRedaction.scrub(e.getMessage()), e);
        }
    }
}
