package com.perseusproxy.tools;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.config.AuthDbDsn;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.secrets.SecretEncryptionException;
import com.perseusproxy.core.tenant.DsnRedaction;
import com.perseusproxy.core.tenant.PerseusAuthTable;

import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * {@code tenant}: inserts or updates one {@code perseus_auth} row in one step, hashing the tenant's password
 * (easy-scrypt) and encrypting the backend password (KMS or a local key) on the way, so nobody pastes hashes into
 * SQL. The row is matched on (source_db, source_schema), the table's unique key.
 * <pre>
 *   perseus-tools tenant -auth_dsn postgres://... -source_db mm -schema ws1 -user ws1 \
 *       -dest_host db1:5432 -dest_db mm -dest_user mmuser  (-key_arn ARN -region R | -key_file FILE)
 * </pre>
 * Secrets never need the command line: the tenant password and then the backend password are read from standard
 * input (one line each) or prompted for on a terminal; {@code -dest_pass_enc} reuses an existing ciphertext instead
 * of the backend password. Without {@code -auth_dsn}, the proxy's own {@code PERSEUS_AUTHDBSETTINGS_AUTHDBDSN} is used.
 */
final class TenantCommand {

    static final String DSN_ENV = "PERSEUS_AUTHDBSETTINGS_AUTHDBDSN";
    private static final List<String> OWN_FLAGS = List.of("auth_dsn", "source_db", "schema", "user", "dest_host",
            "dest_db", "dest_user", "dest_pass_enc", "scram");

    /** Column widths of Perseus's perseus_auth; checked first so a long value gets a clear message. */
    private record Column(String name, String flag, int width) {
    }

    private static final String UPSERT = PerseusAuthTable.UPSERT + "\nRETURNING id, (xmax = 0) AS inserted";

    private TenantCommand() {
    }

    static int run(String[] args, Io io) throws UsageException, IOException, ToolFailure {
        List<String> known = new ArrayList<>(OWN_FLAGS);
        known.addAll(PasswordCipherFlags.ALL);
        GoFlags flags = GoFlags.parse(args, 1, known, List.of("scram"));
        if (flags.helpRequested()) {
            io.err().print(PerseusTools.usage());
            return PerseusTools.OK;
        }
        AuthDbDsn dsn = authDb(flags, io);
        String sourceDb = flags.require("source_db", "the database name tenants connect to");
        String schema = flags.require("schema", "the tenant's schema (schema_search_path, search_path)");
        String user = flags.require("user", "the user name the tenant logs in with");
        String destHost = flags.require("dest_host", "the backend server as host or host:port");
        String destDb = flags.require("dest_db", "the backend database");
        String destUser = flags.require("dest_user", "the backend role the proxy logs in as");
        try {
            Destination.of(destHost, destDb, destUser);
        } catch (IllegalArgumentException e) {
            throw new UsageException("-dest_host: " + e.getMessage() + "; write host or host:port");
        }
        Optional<String> reusedCiphertext = flags.get("dest_pass_enc").filter(s -> !s.isBlank());
        String tenant = user + "@" + sourceDb + "/" + schema;
        String backend = destUser + "@" + destHost + "/" + destDb;

        String hash;
        String destPassEnc;
        String encryptedWith;
        if (reusedCiphertext.isPresent()) {
            for (String flag : PasswordCipherFlags.ALL) {
                if (flags.has(flag)) {
                    throw new UsageException("-" + flag + " is not used with -dest_pass_enc (the ciphertext is "
                            + "stored as given): drop one of them");
                }
            }
            hash = hashTenantPassword(io, tenant, flags.isSet("scram"));
            destPassEnc = reusedCiphertext.get().strip();
            encryptedWith = "the given dest_pass_enc";
        } else {
            try (PasswordCipherFlags.PasswordCipher cipher = PasswordCipherFlags.open(flags)) {
                hash = hashTenantPassword(io, tenant, flags.isSet("scram"));
                String backendPassword = io.passwords().read(Optional.empty(), "Backend password for " + backend,
                        null, true);
                destPassEnc = cipher.encrypt(backendPassword);
                encryptedWith = cipher.describe();
            } catch (SecretEncryptionException e) {
                throw new ToolFailure(e.getMessage());
            }
        }
        checkWidths(List.of(new Column("source_db", "-source_db", 1024), new Column("source_schema", "-schema", 64),
                new Column("source_user", "-user", 64), new Column("dest_host", "-dest_host", 64),
                new Column("dest_db", "-dest_db", 1024), new Column("dest_user", "-dest_user", 64),
                new Column("dest_pass_enc", "the ciphertext", 1024)),
                List.of(sourceDb, schema, user, destHost, destDb, destUser, destPassEnc));

        Row row = upsert(dsn, List.of(sourceDb, schema, user, hash, destHost, destDb, destPassEnc, destUser));
        io.out().println((row.inserted ? "inserted" : "updated") + " perseus_auth row id " + row.id + ": tenant "
                + tenant + " -> backend " + backend + " (password encrypted with " + encryptedWith + ")");
        return PerseusTools.OK;
    }

    private static AuthDbDsn authDb(GoFlags flags, Io io) throws UsageException {
        Optional<String> flag = flags.get("auth_dsn").filter(s -> !s.isBlank());
        String text = flag.orElse(io.env().get(DSN_ENV));
        if (text == null || text.isBlank()) {
            throw new UsageException("missing -auth_dsn: the database holding perseus_auth, e.g. "
                    + "postgres://user@host:5432/perseus (or set " + DSN_ENV + ", which keeps its password off the "
                    + "command line)");
        }
        try {
            return AuthDbDsn.parse(text, flag.isPresent() ? "-auth_dsn" : DSN_ENV);
        } catch (ConfigException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private static String hashTenantPassword(Io io, String tenant, boolean scram)
            throws UsageException, IOException {
        String password = io.passwords().read(Optional.empty(), "Tenant password for " + tenant, null, true);
        // -scram: a SCRAM-SHA-256 verifier, so clients log in without sending the password; else easy-scrypt.
        return scram ? com.perseusproxy.core.auth.ScramVerifier.create(password,
                com.perseusproxy.core.auth.ScramVerifier.DEFAULT_ITERATIONS, null).encode() : EasyScrypt.hash(password);
    }

    private static void checkWidths(List<Column> columns, List<String> values) throws UsageException {
        for (int i = 0; i < columns.size(); i++) {
            Column column = columns.get(i);
            if (values.get(i).length() > column.width) {
                throw new UsageException(column.flag + " is " + values.get(i).length() + " characters long, but "
                        + "perseus_auth." + column.name + " holds at most " + column.width);
            }
        }
    }

    private record Row(int id, boolean inserted) {
    }

    private static Row upsert(AuthDbDsn dsn, List<String> values) throws ToolFailure {
        Properties properties = dsn.connectionProperties();
        if (!dsn.parameters().containsKey("connectTimeout")) {
            properties.setProperty("connectTimeout", "10");
        }
        try (Connection db = DriverManager.getConnection(dsn.jdbcUrl(), properties);
             PreparedStatement upsert = db.prepareStatement(UPSERT)) {
            for (int i = 0; i < values.size(); i++) {
                upsert.setString(i + 1, values.get(i));
            }
            try (ResultSet result = upsert.executeQuery()) {
                result.next();
                return new Row(result.getInt("id"), result.getBoolean("inserted"));
            }
        } catch (SQLException e) {
            throw new ToolFailure(explain(dsn, e));
        }
    }

    private static String explain(AuthDbDsn dsn, SQLException e) {
        String where = "the auth database " + dsn;
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return switch (state) {
            case "42P01" -> "perseus_auth does not exist in " + where + ": create it (docs/PERSEUS-MIGRATION.md has "
                    + "the CREATE TABLE), or add currentSchema=<schema> to the DSN if it lives in another schema";
            case "42P10" -> "perseus_auth in " + where + " lacks UNIQUE (source_db, source_schema), which the upsert "
                    + "needs: add it with ALTER TABLE perseus_auth ADD UNIQUE (source_db, source_schema)";
            case "42501" -> "the DSN's user may not write perseus_auth in " + where + ": GRANT INSERT, UPDATE, SELECT "
                    + "ON perseus_auth (and USAGE on its id sequence) to it";
            default -> "cannot write perseus_auth in " + where + ": " + DsnRedaction.scrub(e.getMessage())
                    + (state.isEmpty() ? "" : " (SQLSTATE " + state + ")");
        };
    }
}
