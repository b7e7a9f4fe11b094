package com.perseusproxy.server.it;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;

/**
 * A test bed for credential rotation: backend roles of its own (members of app_owner, so they reach the fixture's
 * tenant schemas), perseus_auth rows of its own (source databases named {@code rot_*}, so no other test's tenants are
 * touched), the NOTIFY trigger operators add, and a dedicated proxy with a short MaxLifetime.
 */
final class RotationBed {

    static final String NOTIFY_TRIGGER_SQL = """
            CREATE OR REPLACE FUNCTION perseus_auth_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('perseus_auth_changed', '');
                RETURN NULL;
            END $$;
            DROP TRIGGER IF EXISTS perseus_auth_changed ON perseus_auth;
            CREATE TRIGGER perseus_auth_changed AFTER INSERT OR UPDATE OR DELETE ON perseus_auth
                FOR EACH STATEMENT EXECUTE FUNCTION perseus_auth_notify();
            """;

    private RotationBed() {
    }

    /** Creates (or resets) a SCRAM login role with app_owner's privileges. */
    static void createRole(String role, String password) {
        TestPostgres pg = Fixtures.postgres();
        pg.execute("postgres",
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN "
                        + "CREATE ROLE " + role + " LOGIN; END IF; END $$",
                "ALTER ROLE " + role + " PASSWORD '" + password + "'",
                "GRANT " + TestPostgres.APP_OWNER.name() + " TO " + role);
    }

    static void alterPassword(String role, String password) {
        Fixtures.postgres().execute("postgres", "ALTER ROLE " + role + " PASSWORD '" + password + "'");
    }

    static void installNotifyTrigger() {
        Fixtures.postgres().execute(TestPostgres.AUTH_DB, NOTIFY_TRIGGER_SQL);
    }

    static void dropNotifyTrigger() {
        Fixtures.postgres().execute(TestPostgres.AUTH_DB, "DROP TRIGGER IF EXISTS perseus_auth_changed ON perseus_auth");
    }

    /** Inserts or replaces the row of (sourceDb, schema). */
    static void upsertRow(String sourceDb, String schema, String sourceUser, String sourcePassHashed, String destUser,
                          String destPassword) throws SQLException {
        TestPostgres pg = Fixtures.postgres();
        try (Connection c = pg.superuserConnection(TestPostgres.AUTH_DB); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO perseus_auth (source_db, source_schema, source_user, source_pass_hashed, dest_host,"
                        + " dest_db, dest_pass_enc, dest_user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (source_db, source_schema) DO UPDATE SET source_user = excluded.source_user,"
                        + " source_pass_hashed = excluded.source_pass_hashed, dest_host = excluded.dest_host,"
                        + " dest_db = excluded.dest_db, dest_pass_enc = excluded.dest_pass_enc,"
                        + " dest_user = excluded.dest_user")) {
            ps.setString(1, sourceDb);
            ps.setString(2, schema);
            ps.setString(3, sourceUser);
            ps.setString(4, sourcePassHashed);
            ps.setString(5, pg.host() + ":" + pg.port());
            ps.setString(6, TestPostgres.APP_DB);
            ps.setString(7, Fixtures.encryptBackendPassword(destPassword));
            ps.setString(8, destUser);
            ps.executeUpdate();
        }
    }

    /** Points every row whose source_db starts with {@code prefix} at {@code destUser} with {@code password}. */
    static void setBackend(String prefix, String destUser, String password) throws SQLException {
        try (Connection c = Fixtures.postgres().superuserConnection(TestPostgres.AUTH_DB);
             PreparedStatement ps = c.prepareStatement("UPDATE perseus_auth SET dest_user = ?, dest_pass_enc = ?"
                     + " WHERE source_db LIKE ?")) {
            ps.setString(1, destUser);
            ps.setString(2, Fixtures.encryptBackendPassword(password));
            ps.setString(3, prefix + "%");
            ps.executeUpdate();
        }
    }

    /** Points every row whose source_db starts with {@code prefix} at another dest_host. */
    static void setDestHost(String prefix, String destHost) throws SQLException {
        try (Connection c = Fixtures.postgres().superuserConnection(TestPostgres.AUTH_DB);
             PreparedStatement ps = c.prepareStatement("UPDATE perseus_auth SET dest_host = ? WHERE source_db LIKE ?")) {
            ps.setString(1, destHost);
            ps.setString(2, prefix + "%");
            ps.executeUpdate();
        }
    }

    static void setClientHashes(String sourceDb, String schema, String... passwords) throws SQLException {
        StringBuilder hashes = new StringBuilder();
        for (String p : passwords) {
            hashes.append(hashes.length() == 0 ? "" : ",").append(EasyScrypt.hash(p));
        }
        try (Connection c = Fixtures.postgres().superuserConnection(TestPostgres.AUTH_DB);
             PreparedStatement ps = c.prepareStatement("UPDATE perseus_auth SET source_pass_hashed = ?"
                     + " WHERE source_db = ? AND source_schema = ?")) {
            ps.setString(1, hashes.toString());
            ps.setString(2, sourceDb);
            ps.setString(3, schema);
            ps.executeUpdate();
        }
    }

    static void deleteRows(String prefix) {
        Fixtures.postgres().execute(TestPostgres.AUTH_DB,
                "DELETE FROM perseus_auth WHERE source_db LIKE '" + prefix + "%'");
    }

    /**
     * Backend connections held as {@code role}. Not filtered on application_name: a leased connection carries its
     * client's application_name (a tracked setting), so "perseus" would miss every busy connection. The bed's roles
     * are used by proxies only.
     */
    static long backendsOf(String role) {
        return Fixtures.postgres().queryLong("postgres", "SELECT count(*) FROM pg_stat_activity WHERE usename = '"
                + role + "' AND backend_type = 'client backend'");
    }

    /** A dedicated proxy: MaxLifetimeSecs 1 so backend logins happen all the time. */
    static PerseusService startProxy(int maxOpen, int refreshIntervalSecs) {
        return startProxy(maxOpen, refreshIntervalSecs, "");
    }

    /** @param extraJson more top-level config entries, each followed by a comma */
    static PerseusService startProxy(int maxOpen, int refreshIntervalSecs, String extraJson) {
        return startProxy(maxOpen, refreshIntervalSecs, 1, extraJson);
    }

    /** @param maxLifetimeSecs 1 makes backend logins happen all the time; 3600 is the production default */
    static PerseusService startProxy(int maxOpen, int refreshIntervalSecs, int maxLifetimeSecs, String extraJson) {
        TestPostgres pg = Fixtures.postgres();
        String json = """
                {
                  %s
                  "ListenAddress": "127.0.0.1:0",
                  "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=4",
                                      "AuthQueryTimeoutSecs": 5, "RefreshIntervalSecs": %d },
                  "PoolSettings": { "MaxIdle": %d, "MaxOpen": %d, "MaxLifetimeSecs": %d, "MaxIdletimeSecs": 300,
                                    "ConnCreateTimeoutSecs": 5, "ConnCloseTimeoutSecs": 1,
                                    "SchemaExecTimeoutSecs": 5, "QueryWaitTimeoutSecs": 60 },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "LogSettings": { "Level": "INFO", "Json": false }
                }
                """.formatted(extraJson, pg.host(), pg.port(), TestPostgres.AUTH_DB, refreshIntervalSecs, maxOpen, maxOpen,
                maxLifetimeSecs, Fixtures.localKeyFile().toString().replace("\\", "\\\\"));
        try {
            return PerseusService.start(ProxyConfig.parse(json, Map.of()));
        } catch (Exception e) {
            throw new IllegalStateException("could not start a proxy under test: " + e.getMessage(), e);
        }
    }

    /** The proxy's pool for a backend role, or null. */
    static BackendPool poolOf(PerseusService proxy, String role) {
        return proxy.proxy().pools().pools().stream().filter(p -> p.destination().user().equals(role)).findFirst()
                .orElse(null);
    }

    static void sleep(long millis) {
        TestPostgres.sleep(millis);
    }
}
