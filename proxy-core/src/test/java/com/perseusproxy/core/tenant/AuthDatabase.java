package com.perseusproxy.core.tenant;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.postgresql.ds.PGSimpleDataSource;

import javax.sql.DataSource;

import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * A real PostgreSQL with Perseus's {@code perseus_auth} table, reached through HikariCP as the proxy reaches it.
 * The role has a password so tests can check that it never leaks into errors.
 */
public final class AuthDatabase implements AutoCloseable {

    public static final String DSN_PASSWORD = "dsn-pa55word-never-shown";

    private final EmbeddedPostgres postgres;
    private final HikariDataSource pool;

    private AuthDatabase(EmbeddedPostgres postgres, HikariDataSource pool) {
        this.postgres = postgres;
        this.pool = pool;
    }

    public static AuthDatabase start() throws IOException, SQLException {
        EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE perseus LOGIN PASSWORD '" + DSN_PASSWORD + "'");
            s.execute(PerseusAuthTable.CREATE_IF_NOT_EXISTS);
            s.execute("GRANT SELECT ON perseus_auth TO perseus");
        }
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl("jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres");
        config.setUsername("perseus");
        config.setPassword(DSN_PASSWORD);
        config.setConnectionTimeout(1000);
        config.setInitializationFailTimeout(-1);
        config.setPoolName("test-authdb");
        return new AuthDatabase(postgres, new HikariDataSource(config));
    }

    public HikariDataSource dataSource() {
        return pool;
    }

    /**
     * A data source whose perseus_auth is a view that sleeps 5 s per query: an overloaded auth database.
     */
    public DataSource slowDataSource() throws SQLException {
        execute("CREATE SCHEMA IF NOT EXISTS slow");
        execute("CREATE OR REPLACE VIEW slow.perseus_auth AS SELECT a.* FROM public.perseus_auth a, pg_sleep(5) s");
        execute("GRANT USAGE ON SCHEMA slow TO perseus");
        execute("GRANT SELECT ON slow.perseus_auth TO perseus");
        PGSimpleDataSource slow = new PGSimpleDataSource();
        slow.setURL("jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres");
        slow.setUser("perseus");
        slow.setPassword(DSN_PASSWORD);
        slow.setCurrentSchema("slow");
        return slow;
    }

    /** Inserts a row and returns its id. */
    public long insert(String db, String schema, String user, String hash, String destHost, String destDb,
                       String destPassEnc, String destUser) throws SQLException {
        try (Connection c = postgres.getPostgresDatabase().getConnection();
             PreparedStatement s = c.prepareStatement("INSERT INTO perseus_auth (source_db, source_schema, "
                     + "source_user, source_pass_hashed, dest_host, dest_db, dest_pass_enc, dest_user) "
                     + "VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")) {
            Object[] values = {db, schema, user, hash, destHost, destDb, destPassEnc, destUser};
            for (int i = 0; i < values.length; i++) {
                s.setObject(i + 1, values[i]);
            }
            try (var rows = s.executeQuery()) {
                rows.next();
                return rows.getLong(1);
            }
        }
    }

    public void execute(String sql) throws SQLException {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Stops PostgreSQL (the pool stays open, as the proxy's would). */
    public void stopPostgres() throws IOException {
        postgres.close();
    }

    @Override
    public void close() throws IOException {
        pool.close();
        postgres.close();
    }
}
