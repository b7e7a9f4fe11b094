package com.perseusproxy.tools;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.config.AuthDbDsn;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.secrets.SecretEncryptionException;
import com.perseusproxy.core.tenant.DsnRedaction;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import org.postgresql.PGConnection;

/**
 * {@code rotate}: changes a backend password (or switches to the other account of an odd/even pair) and proves it:
 * <ol>
 *   <li>reads the perseus_auth rows of {@code -dest_host}/{@code -dest_db} (they must name one dest_user);</li>
 *   <li>makes a strong password (or reads one line from standard input with {@code -password_stdin}) and encrypts
 *   it with the config's KMS key or local key;</li>
 *   <li>applies {@code ALTER ROLE} (SCRAM verifier computed here, so the password never reaches the server's log) and
 *   the rows' {@code dest_user}/{@code dest_pass_enc} in the chosen order, then NOTIFY;</li>
 *   <li>waits until every replica's {@code /metrics} shows its pools logging in with the new credentials and no
 *   connection of the old ones.</li>
 * </ol>
 * It prints fingerprints only. On failure it names the step and the state the role and the rows are left in.
 */
final class RotateCommand {

    private static final List<String> FLAGS = List.of("config", "dest_host", "dest_db", "dest_user", "admin_dsn", "order",
            "switch_account", "to_user", "replicas", "timeout", "password_stdin");
    private static final List<String> BOOLEANS = List.of("switch_account", "password_stdin");
    private static final SecureRandom RANDOM = new SecureRandom();

    private RotateCommand() {
    }

    static int run(String[] args, Io io) throws UsageException, IOException, ToolFailure {
        GoFlags flags = GoFlags.parse(args, 1, FLAGS, BOOLEANS);
        if (flags.helpRequested()) {
            io.err().print(PerseusTools.usage());
            return PerseusTools.OK;
        }
        RotateSettings settings = RotateSettings.load(Path.of(flags.require("config",
                "the config file the proxy replicas run with")), io.env());
        String destHost = flags.require("dest_host", "the backend as written in perseus_auth.dest_host");
        String destDb = flags.require("dest_db", "the backend database as in perseus_auth.dest_db");
        AuthDbDsn admin = dsn(flags.require("admin_dsn", "a DSN of a role that may ALTER ROLE on the backend"),
                "-admin_dsn");
        boolean switchAccount = flags.isSet("switch_account");
        String order = flags.get("order").orElse(switchAccount ? "role-first" : "row-first");
        if (!order.equals("row-first") && !order.equals("role-first")) {
            throw new UsageException("-order must be row-first or role-first, got \"" + order + "\"");
        }
        if (switchAccount && order.equals("row-first")) {
            throw new UsageException("-switch_account sets the other account's password before the rows name it"
                    + " (role-first); row-first would point the tenants at a role whose password is not set yet");
        }
        Destination backend;
        try {
            backend = Destination.of(destHost, destDb, "-");
        } catch (IllegalArgumentException e) {
            throw new UsageException("-dest_host: " + e.getMessage());
        }
        List<URI> replicas = replicas(flags, settings);
        long timeoutMillis = seconds(flags.get("timeout").orElse("300")) * 1000L;

        Steps steps = new Steps(io, settings, admin, destHost, destDb);
        String oldUser = steps.currentUser(flags.get("dest_user").filter(u -> !u.isBlank()));
        String newUser = switchAccount ? otherAccount(oldUser, flags.get("to_user")) : oldUser;
        String password = flags.isSet("password_stdin")
                ? io.passwords().read(Optional.empty(), "New password for " + newUser, null, true)
                : generatePassword();
        BackendCredentials fresh = new BackendCredentials(newUser, password);
        String ciphertext = steps.encrypt(password);
        io.err().printf("rotate %s/%s: %s -> %s (%s, %s)%n", destHost, destDb, oldUser, fresh,
                switchAccount ? "account switch" : "password change", order);

        if (order.equals("role-first")) {
            steps.alterRole(fresh, false);
            steps.updateRows(oldUser, fresh, ciphertext, true);
        } else {
            steps.updateRows(oldUser, fresh, ciphertext, false);
            steps.alterRole(fresh, true);
        }
        steps.notifyProxies();
        waitForReplicas(io, replicas, new ReplicaWatch(destHostLabel(backend), destDb, fresh.fingerprint()),
                timeoutMillis, fresh);
        io.out().println("rotated " + destHost + "/" + destDb + ": every replica logs in with " + fresh);
        return PerseusTools.OK;
    }

    /** The odd/even partner: {@code -to_user}, else {@code x_odd} ↔ {@code x_even}. */
    private static String otherAccount(String user, Optional<String> toUser) throws UsageException {
        if (toUser.isPresent() && !toUser.get().isBlank()) {
            if (toUser.get().equals(user)) {
                throw new UsageException("-to_user is the account in use (" + user + "): name the other one");
            }
            return toUser.get().strip();
        }
        if (user.endsWith("_odd")) {
            return user.substring(0, user.length() - 4) + "_even";
        }
        if (user.endsWith("_even")) {
            return user.substring(0, user.length() - 5) + "_odd";
        }
        throw new UsageException("-switch_account: the rows use " + user + ", which does not end in _odd or _even;"
                + " name the other account with -to_user");
    }

    /** 32 random bytes, URL-safe base64: 256 bits, no characters that need quoting anywhere. */
    static String generatePassword() {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    private static List<URI> replicas(GoFlags flags, RotateSettings settings) throws UsageException {
        String list = flags.get("replicas").orElse(settings.metricsAddress());
        if (list.isBlank()) {
            throw new UsageException("no replicas to watch: give -replicas host:port,... (their MetricsAddress), or"
                    + " set MetricsAddress in the config");
        }
        List<URI> uris = new ArrayList<>();
        for (String replica : list.split(",")) {
            if (!replica.isBlank()) {
                uris.add(ReplicaWatch.metricsUri(replica));
            }
        }
        return uris;
    }

    private static void waitForReplicas(Io io, List<URI> replicas, ReplicaWatch watch, long timeoutMillis,
                                        BackendCredentials fresh) throws ToolFailure {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        List<URI> pending = new ArrayList<>(replicas);
        List<String> unreachable = new ArrayList<>();
        String lastDetail = "";
        while (!pending.isEmpty()) {
            for (var it = pending.iterator(); it.hasNext(); ) {
                URI replica = it.next();
                ReplicaWatch.State state = watch.check(replica);
                if (state.done()) {
                    io.err().println("replica " + replica + ": " + state.detail());
                    it.remove();
                } else if (!state.reachable() && System.currentTimeMillis() > deadline - timeoutMillis + 10_000) {
                    // Not live (stopped, or not a replica): it logs in with the rows' new values when it starts.
                    io.err().println("replica " + replica + ": " + state.detail() + "; not live, not waited for");
                    unreachable.add(replica.toString());
                    it.remove();
                } else {
                    lastDetail = replica + ": " + state.detail();
                }
            }
            if (pending.isEmpty()) {
                break;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new ToolFailure("step 4/4 (waiting for the replicas) timed out: " + lastDetail + ". State:"
                        + " the role and the rows both hold the new credentials " + fresh + ", so nothing is"
                        + " broken; connections of older credentials retire when idle (a long transaction holds"
                        + " one). Check that replica's log");
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ToolFailure("interrupted while waiting for the replicas; the role and the rows hold the"
                        + " new credentials " + fresh);
            }
        }
        if (!unreachable.isEmpty() && unreachable.size() == replicas.size()) {
            throw new ToolFailure("step 4/4: no replica could be reached (" + String.join(", ", unreachable) + ");"
                    + " the role and the rows hold the new credentials " + fresh + ", but nothing proved that a"
                    + " proxy uses them");
        }
    }

    /** As the proxy's metrics write dest_host: {@code host} for port 5432, else {@code host:port}. */
    static String destHostLabel(Destination d) {
        if (d.port() == Destination.DEFAULT_PORT) {
            return d.host();
        }
        return (d.host().contains(":") ? "[" + d.host() + "]" : d.host()) + ":" + d.port();
    }

    private static long seconds(String text) throws UsageException {
        try {
            long value = Long.parseLong(text.strip());
            if (value >= 1 && value <= 86_400) {
                return value;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new UsageException("-timeout must be seconds from 1 to 86400, got \"" + text + "\"");
    }

    static AuthDbDsn dsn(String text, String what) throws UsageException {
        try {
            return AuthDbDsn.parse(text, what);
        } catch (ConfigException e) {
            throw new UsageException(e.getMessage());
        }
    }

    static Connection connect(AuthDbDsn dsn) throws SQLException {
        Properties properties = dsn.connectionProperties();
        if (!dsn.parameters().containsKey("connectTimeout")) {
            properties.setProperty("connectTimeout", "10");
        }
        return DriverManager.getConnection(dsn.jdbcUrl(), properties);
    }

    /** The database steps, each with the message that says what failed and what state it left. */
    private static final class Steps {
        private final Io io;
        private final RotateSettings settings;
        private final AuthDbDsn admin;
        private final String destHost;
        private final String destDb;

        Steps(Io io, RotateSettings settings, AuthDbDsn admin, String destHost, String destDb) {
            this.io = io;
            this.settings = settings;
            this.admin = admin;
            this.destHost = destHost;
            this.destDb = destDb;
        }

        /** @param only {@code -dest_user}: the account to rotate when the backend's rows name several */
        String currentUser(Optional<String> only) throws ToolFailure {
            TreeSet<String> users = new TreeSet<>();
            try (Connection db = connect(settings.authDb()); PreparedStatement ps = db.prepareStatement(
                    "SELECT DISTINCT dest_user FROM perseus_auth WHERE dest_host = ? AND dest_db = ?")) {
                ps.setString(1, destHost);
                ps.setString(2, destDb);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        users.add(rs.getString(1));
                    }
                }
            } catch (SQLException e) {
                throw new ToolFailure("step 1/4 (reading perseus_auth in " + settings.authDb() + ") failed: "
                        + DsnRedaction.scrub(e.getMessage()) + ". Nothing was changed");
            }
            if (only.isPresent()) {
                users.retainAll(List.of(only.get()));
            }
            if (users.isEmpty()) {
                throw new ToolFailure("step 1/4: no perseus_auth row has dest_host = '" + destHost + "' and dest_db"
                        + " = '" + destDb + "'" + only.map(u -> " and dest_user = '" + u + "'").orElse("")
                        + " (written exactly as in the rows). Nothing was changed");
            }
            if (users.size() > 1) {
                throw new ToolFailure("step 1/4: the rows of " + destHost + "/" + destDb + " name several"
                        + " dest_users " + users + "; name the account to rotate with -dest_user (or finish the"
                        + " switch first). Nothing was changed");
            }
            return users.first();
        }

        String encrypt(String password) throws ToolFailure, IOException, UsageException {
            try (PasswordCipherFlags.PasswordCipher cipher = settings.kms() != null
                    ? PasswordCipherFlags.kms(settings.kms()) : PasswordCipherFlags.local(settings.localKeyFile())) {
                return cipher.encrypt(password);
            } catch (SecretEncryptionException e) {
                throw new ToolFailure("step 2/4 (encrypting the new password) failed: " + e.getMessage()
                        + ". Nothing was changed");
            }
        }

        void alterRole(BackendCredentials fresh, boolean rowsAlreadyChanged) throws ToolFailure {
            try (Connection db = connect(admin)) {
                // pgjdbc computes the SCRAM verifier here: the password itself never reaches the server or its log.
                db.unwrap(PGConnection.class).alterUserPassword(fresh.user(), fresh.password().toCharArray(),
                        "scram-sha-256");
                String at;
                try (var st = db.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")) {
                    rs.next();
                    at = rs.getString(1);
                }
                io.err().println("ALTER ROLE " + fresh.user() + " PASSWORD (" + fresh + ") committed at " + at);
            } catch (SQLException e) {
                String state = rowsAlreadyChanged
                        ? "perseus_auth rows already hold the new credentials " + fresh + " but role " + fresh.user()
                        + " does not: the proxies keep logging in with the old password, which still works; run"
                        + " rotate again (it sets a new password in both)"
                        : "nothing was changed";
                throw new ToolFailure("step 3/4 (ALTER ROLE " + fresh.user() + " on " + admin + ") failed: "
                        + DsnRedaction.scrub(e.getMessage()) + sqlState(e) + ". State: " + state);
            }
        }

        void updateRows(String oldUser, BackendCredentials fresh, String ciphertext, boolean roleAlreadyChanged)
                throws ToolFailure {
            try (Connection db = connect(settings.authDb())) {
                db.setAutoCommit(false);
                int rows;
                try (PreparedStatement ps = db.prepareStatement("UPDATE perseus_auth SET dest_user = ?,"
                        + " dest_pass_enc = ? WHERE dest_host = ? AND dest_db = ? AND dest_user = ?")) {
                    ps.setString(1, fresh.user());
                    ps.setString(2, ciphertext);
                    ps.setString(3, destHost);
                    ps.setString(4, destDb);
                    ps.setString(5, oldUser);
                    rows = ps.executeUpdate();
                }
                notify(db);
                db.commit();
                io.err().println("updated " + rows + " perseus_auth rows of " + destHost + "/" + destDb + " to "
                        + fresh + " and notified " + settings.notifyChannel());
            } catch (SQLException e) {
                String state = roleAlreadyChanged
                        ? "role " + fresh.user() + " HAS the new password but the rows still hold the old"
                        + " credentials: new backend logins fail until the rows are fixed (open connections keep"
                        + " serving). Fix it now: UPDATE perseus_auth SET dest_user = '" + fresh.user() + "',"
                        + " dest_pass_enc = '" + ciphertext + "' WHERE dest_host = '" + destHost + "' AND dest_db"
                        + " = '" + destDb + "' (the ciphertext is the new password encrypted with the proxy's key)"
                        : "nothing was changed (the UPDATE was rolled back)";
                throw new ToolFailure("step 3/4 (UPDATE perseus_auth in " + settings.authDb() + ") failed: "
                        + DsnRedaction.scrub(e.getMessage()) + sqlState(e) + ". State: " + state);
            }
        }

        /** A last NOTIFY once both steps are done, so replicas re-read at once even without the trigger. */
        void notifyProxies() {
            try (Connection db = connect(settings.authDb())) {
                notify(db);
            } catch (SQLException e) {
                io.err().println("warning: the final NOTIFY failed (" + DsnRedaction.scrub(e.getMessage())
                        + "); the replicas pick the change up within AuthDBSettings.RefreshIntervalSecs");
            }
        }

        private void notify(Connection db) throws SQLException {
            if (!settings.notifyChannel().isEmpty()) {
                try (PreparedStatement ps = db.prepareStatement("SELECT pg_notify(?, '')")) {
                    ps.setString(1, settings.notifyChannel());
                    ps.execute();
                }
            }
        }

        private static String sqlState(SQLException e) {
            return e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")";
        }
    }
}
