package com.perseusproxy.server.it;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where a test client connects, and as whom: either PostgreSQL itself or the proxy (see {@link Targets}). Tests only
 * ever connect through a Target, so the same test proves itself against PostgreSQL and then checks the proxy.
 *
 * <p>The schema travels the way real drivers send it: pgjdbc's {@code currentSchema} (startup parameter
 * {@code search_path}) and libpq's {@code options=-c search_path=...}. Both carry a search_path <em>value</em>, so a
 * schema name that is not a plain lower-case identifier is sent double-quoted, as PostgreSQL requires.
 * {@link #toString()} omits the password.
 */
public record Target(String host, int port, String database, String user, String password, String schema) {

    private static final Pattern PLAIN_IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]*");

    public Target withUser(String newUser) {
        return new Target(host, port, database, newUser, password, schema);
    }

    public Target withPassword(String newPassword) {
        return new Target(host, port, database, user, newPassword, schema);
    }

    public Target withSchema(String newSchema) {
        return new Target(host, port, database, user, password, newSchema);
    }

    public Target withDatabase(String newDatabase) {
        return new Target(host, port, newDatabase, user, password, schema);
    }

    /** The schema as a one-element search_path value: as is when plain, else quoted with inner quotes doubled. */
    public String searchPath() {
        return PLAIN_IDENTIFIER.matcher(schema).matches() ? schema : '"' + schema.replace("\"", "\"\"") + '"';
    }

    /**
     * A pgjdbc URL with {@code currentSchema} and {@code prepareThreshold=0} (unnamed statements only; named
     * statements across pooled transactions are tested on their own), plus the given extra parameters as
     * name/value pairs, e.g. {@code "preferQueryMode", "simple"}. Later pairs override earlier ones.
     */
    public String jdbcUrl(String... extraParams) {
        return jdbcUrl(true, extraParams);
    }

    /**
     * A pgjdbc URL like {@link #jdbcUrl(String...)} but with pgjdbc's default {@code prepareThreshold} (5): from the
     * fifth execution of a PreparedStatement on, pgjdbc uses a named server-side statement, as applications do.
     */
    public String jdbcUrlWithNamedStatements(String... extraParams) {
        return jdbcUrl(false, extraParams);
    }

    private String jdbcUrl(boolean unnamedOnly, String... extraParams) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("user", user);
        params.put("password", password);
        params.put("currentSchema", searchPath());
        if (unnamedOnly) {
            params.put("prepareThreshold", "0");
        }
        params.put("connectTimeout", "10");
        params.put("ApplicationName", "perseus-it");
        if (extraParams.length % 2 != 0) {
            throw new IllegalArgumentException("extra parameters come in name/value pairs");
        }
        for (int i = 0; i < extraParams.length; i += 2) {
            params.put(extraParams[i], extraParams[i + 1]);
        }
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(host).append(':').append(port)
                .append('/').append(encode(database));
        char separator = '?';
        for (Map.Entry<String, String> e : params.entrySet()) {
            url.append(separator).append(e.getKey()).append('=').append(encode(e.getValue()));
            separator = '&';
        }
        return url.toString();
    }

    /** Opens a pgjdbc connection; see {@link #jdbcUrl(String...)} for the extra parameters. */
    public Connection connect(String... extraParams) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(extraParams));
    }

    /** Opens a pgjdbc connection with named server-side statements; see {@link #jdbcUrlWithNamedStatements}. */
    public Connection connectWithNamedStatements(String... extraParams) throws SQLException {
        return DriverManager.getConnection(jdbcUrlWithNamedStatements(extraParams));
    }

    /**
     * A libpq connection string (for psql and pgbench) without the password, which goes in {@link #processEnv()}.
     * In {@code options}, PostgreSQL splits on whitespace and a backslash protects the next character; the whole value
     * is then single-quoted for libpq.
     */
    public String libpqConnString() {
        String options = "-c search_path=" + searchPath().replaceAll("([\\\\\\s])", "\\\\$1");
        return "host=" + libpqQuote(host) + " port=" + port + " dbname=" + libpqQuote(database)
                + " user=" + libpqQuote(user) + " options=" + libpqQuote(options)
                + " application_name=perseus-it connect_timeout=10 sslmode=disable";
    }

    /** Environment for psql/pgbench processes: the password, and no user-level configuration files. */
    public Map<String, String> processEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGPASSWORD", password);
        env.put("PGPASSFILE", "/dev/null");
        env.put("PGSERVICEFILE", "/dev/null");
        env.put("PSQLRC", "/dev/null");
        env.put("PGTZ", "UTC");
        return env;
    }

    @Override
    public String toString() {
        return "Target[" + user + "@" + host + ":" + port + "/" + database + " schema=" + schema + "]";
    }

    private static String encode(String value) {
        // pgjdbc decodes URL parameters with URLDecoder, so '+' for space round-trips.
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String libpqQuote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }
}
