package com.perseusproxy.server.demo;

import com.perseusproxy.core.tenant.PerseusAuthTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * Installs a small multi-tenant sample: the {@code perseus_auth} table in an auth database, and one schema per tenant
 * in an application database, each with a {@code notes} table whose rows name their tenant. Used by the demo mode and
 * by the integration tests.
 *
 * <p>Running it twice is harmless: objects are created only when missing, sample rows are only added to an empty
 * table, and {@code perseus_auth} rows are upserted on (source_db, source_schema), so a rerun also rotates the stored
 * hashes and ciphertexts to the values given now.
 *
 * <p>Hashing and encryption are passed in as functions so this class does not depend on (and cannot drift from) the
 * proxy's own implementations: callers pass {@code EasyScrypt::hash} and the configured cipher.
 */
public final class SampleDatabase {

    static final String CREATE_PERSEUS_AUTH = PerseusAuthTable.CREATE_IF_NOT_EXISTS;

    private static final String UPSERT_TENANT = PerseusAuthTable.UPSERT;

    private SampleDatabase() {
    }

    /**
     * A tenant as a client sees it: the database and schema it names at login, and its own credentials.
     * {@link #toString()} omits the password.
     */
    public record SampleTenant(String sourceDb, String schema, String user, String password) {
        public SampleTenant {
            Objects.requireNonNull(sourceDb, "sourceDb");
            Objects.requireNonNull(schema, "schema");
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String toString() {
            return "SampleTenant[" + user + "@" + sourceDb + "/" + schema + "]";
        }
    }

    /**
     * Where the tenants' transactions run: the shared backend server, the application database that holds the tenant
     * schemas, and the role (with its password) that the proxy's pool logs in as. {@link #toString()} omits the
     * password.
     */
    public record Backend(String host, int port, String database, String role, String password) {
        public Backend {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(database, "database");
            Objects.requireNonNull(role, "role");
            Objects.requireNonNull(password, "password");
        }

        /** {@code dest_host} as Perseus stores it: {@code host:port}. */
        public String destHost() {
            return host + ":" + port;
        }

        @Override
        public String toString() {
            return "Backend[" + role + "@" + destHost() + "/" + database + "]";
        }
    }

    /**
     * Installs everything.
     *
     * @param authDb                 a connection to the auth database (will hold {@code perseus_auth})
     * @param appDb                  a connection to {@code backend.database()}, allowed to create schemas and to
     *                               hand them to {@code backend.role()} (a superuser, in the demo and the tests)
     * @param backend                the shared backend and the role the proxy logs in as; the role must exist
     * @param tenants                the tenants to create
     * @param hashPassword           client password to {@code source_pass_hashed} (easy-scrypt, base64)
     * @param encryptBackendPassword backend password to {@code dest_pass_enc}
     */
    public static void install(Connection authDb, Connection appDb, Backend backend, List<SampleTenant> tenants,
                               Function<String, String> hashPassword,
                               Function<String, String> encryptBackendPassword) throws SQLException {
        createAuthTable(authDb);
        for (SampleTenant tenant : tenants) {
            createTenantSchema(appDb, tenant.schema(), backend.role());
        }
        // One ciphertext for all rows: every tenant of this backend shares the pool's login.
        String destPassEnc = encryptBackendPassword.apply(backend.password());
        for (SampleTenant tenant : tenants) {
            upsertTenant(authDb, tenant, backend, hashPassword.apply(tenant.password()), destPassEnc);
        }
    }

    /** Creates {@code perseus_auth} unless it exists. */
    public static void createAuthTable(Connection authDb) throws SQLException {
        try (Statement st = authDb.createStatement()) {
            st.execute(CREATE_PERSEUS_AUTH);
        }
    }

    /**
     * Creates the tenant's schema, owned by the backend role (so tenants can create their own tables, as pgbench -i
     * does), and a {@code notes} table with sample rows that start with the schema name: a tenant that ever sees a row
     * starting with another name has read another tenant's data.
     */
    public static void createTenantSchema(Connection appDb, String schema, String backendRole) throws SQLException {
        String s = quoteIdent(schema);
        String role = quoteIdent(backendRole);
        try (Statement st = appDb.createStatement()) {
            st.execute("CREATE SCHEMA IF NOT EXISTS " + s + " AUTHORIZATION " + role);
            st.execute("CREATE TABLE IF NOT EXISTS " + s + ".notes (id serial PRIMARY KEY, body text NOT NULL)");
            // Also hands over the serial's sequence, so the backend role can insert.
            st.execute("ALTER TABLE " + s + ".notes OWNER TO " + role);
        }
        String seed = "INSERT INTO " + s + ".notes (body) SELECT x FROM unnest(?::text[]) AS x"
                + " WHERE NOT EXISTS (SELECT 1 FROM " + s + ".notes)";
        try (PreparedStatement ps = appDb.prepareStatement(seed)) {
            ps.setArray(1, appDb.createArrayOf("text", new String[] {
                    schema + ": welcome to the sample database",
                    schema + ": this row belongs to " + schema + " only",
                    schema + ": transactions here run with search_path = " + schema}));
            ps.executeUpdate();
        }
    }

    /** Inserts or replaces the tenant's {@code perseus_auth} row. */
    public static void upsertTenant(Connection authDb, SampleTenant tenant, Backend backend, String sourcePassHashed,
                                    String destPassEnc) throws SQLException {
        try (PreparedStatement ps = authDb.prepareStatement(UPSERT_TENANT)) {
            ps.setString(1, tenant.sourceDb());
            ps.setString(2, tenant.schema());
            ps.setString(3, tenant.user());
            ps.setString(4, sourcePassHashed);
            ps.setString(5, backend.destHost());
            ps.setString(6, backend.database());
            ps.setString(7, destPassEnc);
            ps.setString(8, backend.role());
            ps.executeUpdate();
        }
    }

    /** Quotes an identifier the way PostgreSQL's {@code quote_ident} does (always quoted, quotes doubled). */
    public static String quoteIdent(String identifier) {
        if (identifier.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifiers cannot contain NUL");
        }
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }
}
