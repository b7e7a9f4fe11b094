package com.perseusproxy.tools;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.auth.ScramVerifier;
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
 * of the backend password. {@code -scram} stores a SCRAM-SHA-256 verifier instead of an easy-scrypt hash;
 * {@code -add} keeps the row's passwords valid next to the new one (a client-side rotation), a new verifier then
 * sharing the salt of the row's first. Without {@code -auth_dsn}, the proxy's own
 * {@code PERSEUS_AUTHDBSETTINGS_AUTHDBDSN} is used.
 */
final class TenantCommand {

    static final String DSN_ENV = "PERSEUS_AUTHDBSETTINGS_AUTHDBDSN";
    private static final List<String> OWN_FLAGS = List.of("auth_dsn", "source_db", "schema", "user", "dest_host",
            "dest_db", "dest_user", "dest_pass_enc", "scram", "add");

    /** Column widths of Perseus's perseus_auth; checked first so a long value gets a clear message. */
    private record Column(String name, String flag, int width) {
    }

    private static final String UPSERT = PerseusAuthTable.UPSERT + "\nRETURNING id, (xmax = 0) AS inserted";

    private TenantCommand() {
    }

    static int run(String[] args, Io io) throws UsageException, IOException, ToolFailure {
        List<String> known = new ArrayList<>(OWN_FLAGS);
        known.addAll(PasswordCipherFlags.ALL);
        GoFlags flags = GoFlags.parse(args, 1, known, List.of("scram", "add"));
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

        // -add: the row's passwords stay valid next to the new one (a client-side rotation's first step).
        Optional<String> kept = flags.isSet("add") ? Optional.of(existingHashes(dsn, sourceDb, schema, tenant,
                flags.isSet("scram"))) : Optional.empty();
        PasswordHashing hashing = new PasswordHashing(flags.isSet("scram"), kept.orElse(null));
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
            hash = hashing.hash(io, tenant);
            destPassEnc = reusedCiphertext.get().strip();
            encryptedWith = "the given dest_pass_enc";
        } else {
            try (PasswordCipherFlags.PasswordCipher cipher = PasswordCipherFlags.open(flags)) {
                hash = hashing.hash(io, tenant);
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

        checkWidths(List.of(new Column("source_pass_hashed", "the new and kept hashes", 1024)), List.of(hash));
        Row row = upsert(dsn, List.of(sourceDb, schema, user, hash, destHost, destDb, destPassEnc, destUser));
        io.out().println((row.inserted ? "inserted" : "updated") + " perseus_auth row id " + row.id + ": tenant "
                + tenant + " -> backend " + backend + " (password encrypted with " + encryptedWith + ")");
        if (kept.isPresent()) {
            io.out().println("the tenant's previous passwords still work next to the new one: once every client"
                    + " uses the new one, run this command again without -add to drop them");
        }
        return PerseusTools.OK;
    }

    /** The row's source_pass_hashed, for -add; refuses what would leave the new password unusable. */
    private static String existingHashes(AuthDbDsn dsn, String sourceDb, String schema, String tenant, boolean scram)
            throws ToolFailure {
        String hashes;
        try (Connection db = DriverManager.getConnection(dsn.jdbcUrl(), connectionProperties(dsn));
             PreparedStatement select = db.prepareStatement("SELECT source_pass_hashed FROM perseus_auth"
                     + " WHERE source_db = ? AND source_schema = ?")) {
            select.setString(1, sourceDb);
            select.setString(2, schema);
            try (ResultSet result = select.executeQuery()) {
                if (!result.next()) {
                    throw new ToolFailure("-add: perseus_auth has no row for " + tenant + " to add a password to;"
                            + " run the command without -add to create it");
                }
                hashes = result.getString(1) == null ? "" : result.getString(1).strip();
            }
        } catch (SQLException e) {
            throw new ToolFailure(explain(dsn, e));
        }
        boolean rowHasVerifier = java.util.Arrays.stream(hashes.split(","))
                .anyMatch(h -> ScramVerifier.looksLikeVerifier(h.strip()));
        if (rowHasVerifier && !scram) {
            // The proxy asks this row's clients with SCRAM, which cannot check an easy-scrypt hash.
            throw new ToolFailure("-add: the row of " + tenant + " holds a SCRAM verifier, so its clients log in"
                    + " with SCRAM and an easy-scrypt hash would never be checked; add -scram");
        }
        return hashes;
    }

    /**
     * Makes the stored form of the tenant's new password: an easy-scrypt hash, or with -scram a SCRAM verifier. With
     * -add it is appended to the kept hashes, and a verifier reuses the salt and iteration count of the row's first
     * verifier: SCRAM tells the client one salt, so only verifiers sharing it can be checked side by side.
     */
    private record PasswordHashing(boolean scram, String kept) {

        String hash(Io io, String tenant) throws UsageException, IOException, ToolFailure {
            String password = io.passwords().read(Optional.empty(), "Tenant password for " + tenant, null, true);
            if (scram && kept != null && ScramVerifier.exchangeable(kept).isEmpty() && hasScryptHash()
                    && !matchesAnyScryptHash(password)) {
                // The row's first verifier makes the proxy ask its clients with SCRAM, which cannot check the
                // easy-scrypt hashes: every client still on the current password would be refused at once.
                throw new ToolFailure("-add -scram: the row of " + tenant + " holds easy-scrypt hashes only, and"
                        + " with a verifier its clients are asked with SCRAM, which cannot check them; first add the"
                        + " verifier of the tenant's current password (-scram -add with that password), then -add"
                        + " the new one");
            }
            String made = scram ? verifier(password) : EasyScrypt.hash(password);
            return kept == null || kept.isEmpty() ? made : kept + "," + made;
        }

        private boolean hasScryptHash() {
            return java.util.Arrays.stream(kept.split(",")).map(String::strip).anyMatch(EasyScrypt::isWellFormed);
        }

        private boolean matchesAnyScryptHash(String password) {
            return java.util.Arrays.stream(kept.split(",")).map(String::strip).filter(EasyScrypt::isWellFormed)
                    .anyMatch(h -> EasyScrypt.verify(password, h));
        }

        private String verifier(String password) {
            ScramVerifier like = kept == null ? null : ScramVerifier.exchangeable(kept).stream().findFirst()
                    .orElse(null);
            return like == null ? ScramVerifier.create(password, ScramVerifier.DEFAULT_ITERATIONS, null).encode()
                    : ScramVerifier.create(password, like.iterations(), like.salt()).encode();
        }
    }

    private static Properties connectionProperties(AuthDbDsn dsn) {
        Properties properties = dsn.connectionProperties();
        if (!dsn.parameters().containsKey("connectTimeout")) {
            properties.setProperty("connectTimeout", "10");
        }
        return properties;
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
        try (Connection db = DriverManager.getConnection(dsn.jdbcUrl(), connectionProperties(dsn));
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
