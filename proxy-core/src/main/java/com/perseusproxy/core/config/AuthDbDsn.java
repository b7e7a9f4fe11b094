package com.perseusproxy.core.config;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Perseus's {@code AuthDBDSN}: a libpq/pgx URL
 * {@code postgres[ql]://user:password@host[:port][,host2[:port]]/database?param=value&...}. The {@code pool_*}
 * parameters size the lookup pool; the others become pgjdbc connection parameters (libpq names are translated
 * where pgjdbc spells them differently). {@link #toString()} masks the password; error messages never quote the DSN.
 * The proxy reads it from its config; {@code perseus-tools tenant} from {@code -auth_dsn}, so both accept the same text.
 */
public final class AuthDbDsn {

    /** How the proxy's config names the DSN in messages; the tools name their flag instead. */
    public static final String CONFIG_KEY = "AuthDBSettings.AuthDBDSN";
    private static final Map<String, String> LIBPQ_TO_PGJDBC = Map.of(
            "connect_timeout", "connectTimeout",
            "application_name", "ApplicationName",
            "target_session_attrs", "targetServerType");
    private static final Map<String, String> TARGET_SESSION_ATTRS = Map.of(
            "any", "any", "read-write", "primary", "primary", "primary", "read-only", "secondary",
            "standby", "secondary", "prefer-standby", "preferSecondary");

    private final String scheme;
    private final List<String> hosts;
    private final String database;
    private final String user;
    private final String password;
    private final Map<String, String> parameters;
    private final AuthDbPool pool;

    private AuthDbDsn(String scheme, List<String> hosts, String database, String user, String password,
                      Map<String, String> parameters, AuthDbPool pool) {
        this.scheme = scheme;
        this.hosts = List.copyOf(hosts);
        this.database = database;
        this.user = user;
        this.password = password;
        this.parameters = parameters;
        this.pool = pool;
    }

    public static AuthDbDsn parse(String dsn) throws ConfigException {
        return parse(dsn, CONFIG_KEY);
    }

    /** @param what names the DSN's source in error messages, e.g. {@code -auth_dsn} */
    public static AuthDbDsn parse(String dsn, String what) throws ConfigException {
        String text = dsn.strip();
        int schemeEnd = text.indexOf("://");
        String scheme = schemeEnd < 0 ? "" : text.substring(0, schemeEnd).toLowerCase(Locale.ROOT);
        if (!scheme.equals("postgres") && !scheme.equals("postgresql")) {
            throw new ConfigException(what + " must be a URL like postgres://user:password@host:5432/db"
                    + "?sslmode=disable (postgres:// or postgresql://); the key=value form is not supported");
        }
        String rest = text.substring(schemeEnd + 3);
        int fragment = rest.indexOf('#');
        if (fragment >= 0) {
            rest = rest.substring(0, fragment);
        }
        int authorityEnd = indexOfAny(rest, "/?");
        String authority = authorityEnd < 0 ? rest : rest.substring(0, authorityEnd);
        String afterAuthority = authorityEnd < 0 ? "" : rest.substring(authorityEnd);

        String user = "";
        String password = null;
        int at = authority.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = authority.substring(0, at);
            authority = authority.substring(at + 1);
            int colon = userInfo.indexOf(':');
            user = percentDecode(colon < 0 ? userInfo : userInfo.substring(0, colon), "user name", false, what);
            if (colon >= 0) {
                password = percentDecode(userInfo.substring(colon + 1), "password", false, what);
            }
        }
        List<String> hosts = parseHosts(authority, what);

        int query = afterAuthority.indexOf('?');
        String path = query < 0 ? afterAuthority : afterAuthority.substring(0, query);
        String database = percentDecode(path.startsWith("/") ? path.substring(1) : path, "database name", false,
                what);

        Map<String, String> parameters = new LinkedHashMap<>();
        if (query >= 0) {
            for (String pair : afterAuthority.substring(query + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = percentDecode(eq < 0 ? pair : pair.substring(0, eq), "parameter name", true, what);
                String value = eq < 0 ? "" : percentDecode(pair.substring(eq + 1), "value of " + name, true,
                        what);
                parameters.put(name, value);
            }
        }
        // libpq lets user and password come as parameters too; they win over the URL's, as in libpq.
        if (parameters.containsKey("user")) {
            user = parameters.remove("user");
        }
        if (parameters.containsKey("password")) {
            password = parameters.remove("password");
        }
        if (user.isEmpty()) {
            throw new ConfigException(what + " has no user name: write postgres://user:password@host:5432/db");
        }
        AuthDbPool pool = extractPool(parameters, what);
        return new AuthDbDsn(scheme, hosts, database.isEmpty() ? user : database, user, password,
                translate(parameters, what), pool);
    }

    /** The pgjdbc URL, without user or password (those go to the pool separately, so no log can print them). */
    public String jdbcUrl() {
        StringBuilder url = new StringBuilder("jdbc:postgresql://").append(String.join(",", hosts)).append('/')
                .append(URLEncoder.encode(database, StandardCharsets.UTF_8).replace("+", "%20"));
        char separator = '?';
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            if (isSecretParameter(p.getKey())) {
                continue;
            }
            url.append(separator).append(URLEncoder.encode(p.getKey(), StandardCharsets.UTF_8)).append('=')
                    .append(URLEncoder.encode(p.getValue(), StandardCharsets.UTF_8));
            separator = '&';
        }
        return url.toString();
    }

    /** Parameters that carry secrets (e.g. {@code sslpassword}): passed as driver properties, never in the URL. */
    public Map<String, String> secretParameters() {
        Map<String, String> secret = new LinkedHashMap<>();
        parameters.forEach((k, v) -> {
            if (isSecretParameter(k)) {
                secret.put(k, v);
            }
        });
        return secret;
    }

    /**
     * Properties for a plain pgjdbc connection to {@link #jdbcUrl()}: the user, the password and the password-like
     * parameters, which the URL leaves out.
     */
    public Properties connectionProperties() {
        Properties properties = new Properties();
        properties.setProperty("user", user);
        if (password != null) {
            properties.setProperty("password", password);
        }
        secretParameters().forEach(properties::setProperty);
        return properties;
    }

    public List<String> hosts() {
        return hosts;
    }

    public String database() {
        return database;
    }

    public String user() {
        return user;
    }

    /** Null when the DSN has none (e.g. trust or certificate authentication). */
    public String password() {
        return password;
    }

    /** pgjdbc parameters (libpq names translated), including secret ones. */
    public Map<String, String> parameters() {
        return Map.copyOf(parameters);
    }

    public AuthDbPool pool() {
        return pool;
    }

    /** The DSN with its password (and password-like parameters) masked: safe for logs. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder(scheme).append("://").append(user);
        if (password != null) {
            out.append(":*****");
        }
        out.append('@').append(String.join(",", hosts)).append('/').append(database);
        char separator = '?';
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            out.append(separator).append(p.getKey()).append('=')
                    .append(isSecretParameter(p.getKey()) ? "*****" : p.getValue());
            separator = '&';
        }
        return out.toString();
    }

    private static boolean isSecretParameter(String name) {
        return name.toLowerCase(Locale.ROOT).contains("password");
    }

    private static List<String> parseHosts(String authority, String what) throws ConfigException {
        if (authority.isEmpty()) {
            throw new ConfigException(what + " has no host: write postgres://user:password@host:5432/db");
        }
        List<String> hosts = new ArrayList<>();
        for (String entry : authority.split(",")) {
            String host = entry;
            String port = "5432";
            if (entry.startsWith("[")) {
                int close = entry.indexOf(']');
                if (close < 0) {
                    throw new ConfigException(what + " has an IPv6 host with no closing ']'");
                }
                host = entry.substring(0, close + 1);
                if (entry.length() > close + 1) {
                    if (entry.charAt(close + 1) != ':') {
                        throw new ConfigException(what + " has text after the IPv6 host " + host
                                + ": expected :port");
                    }
                    port = entry.substring(close + 2);
                }
            } else if (entry.contains(":")) {
                host = entry.substring(0, entry.indexOf(':'));
                port = entry.substring(entry.indexOf(':') + 1);
            }
            if (host.isEmpty()) {
                throw new ConfigException(what + " has an empty host name: write "
                        + "postgres://user:password@host:5432/db");
            }
            try {
                int number = Integer.parseInt(port);
                if (number < 1 || number > 65535) {
                    throw new NumberFormatException();
                }
            } catch (NumberFormatException e) {
                throw new ConfigException(what + " has an invalid port \"" + port + "\" for host " + host
                        + ": use a number from 1 to 65535");
            }
            hosts.add(host + ":" + port);
        }
        return hosts;
    }

    private static AuthDbPool extractPool(Map<String, String> parameters, String what) throws ConfigException {
        AuthDbPool d = AuthDbPool.defaults();
        int maxConns = intParameter(parameters.remove("pool_max_conns"), "pool_max_conns", d.maxConns(), 1, what);
        int minConns = intParameter(parameters.remove("pool_min_conns"), "pool_min_conns", d.minConns(), 0, what);
        if (minConns > maxConns) {
            throw new ConfigException(what + " has pool_min_conns (" + minConns + ") above pool_max_conns ("
                    + maxConns + "): lower pool_min_conns or raise pool_max_conns");
        }
        return new AuthDbPool(maxConns, minConns,
                durationParameter(parameters.remove("pool_max_conn_lifetime"), "pool_max_conn_lifetime",
                        d.maxConnLifetime(), what),
                durationParameter(parameters.remove("pool_max_conn_idle_time"), "pool_max_conn_idle_time",
                        d.maxConnIdleTime(), what),
                durationParameter(parameters.remove("pool_health_check_period"), "pool_health_check_period",
                        d.healthCheckPeriod(), what),
                durationParameter(parameters.remove("pool_max_conn_lifetime_jitter"), "pool_max_conn_lifetime_jitter",
                        d.maxConnLifetimeJitter(), what));
    }

    private static int intParameter(String value, String name, int defaultValue, int min, String what)
            throws ConfigException {
        if (value == null) {
            return defaultValue;
        }
        try {
            int parsed = Integer.parseInt(value.strip());
            if (parsed >= min) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ConfigException(what + " parameter " + name + " must be a whole number of at least " + min
                + ", got \"" + value + "\"");
    }

    private static Duration durationParameter(String value, String name, Duration defaultValue,
                                              String what)
            throws ConfigException {
        return value == null ? defaultValue : GoDuration.parse(value, what + " parameter " + name);
    }

    private static Map<String, String> translate(Map<String, String> libpq, String what) throws ConfigException {
        Map<String, String> pgjdbc = new LinkedHashMap<>();
        for (Map.Entry<String, String> p : libpq.entrySet()) {
            String name = LIBPQ_TO_PGJDBC.getOrDefault(p.getKey(), p.getKey());
            String value = p.getValue();
            if (p.getKey().equals("target_session_attrs")) {
                value = TARGET_SESSION_ATTRS.get(value);
                if (value == null) {
                    throw new ConfigException(what + " parameter target_session_attrs must be one of "
                            + String.join(", ", TARGET_SESSION_ATTRS.keySet()) + ", got \"" + p.getValue() + "\"");
                }
            }
            pgjdbc.put(name, value);
        }
        return pgjdbc;
    }

    private static int indexOfAny(String s, String chars) {
        for (int i = 0; i < s.length(); i++) {
            if (chars.indexOf(s.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Percent-decoding as Go's net/url does it: {@code +} means a space only in the query. The part is named, never
     * quoted, in errors: it may be the password.
     */
    private static String percentDecode(String s, String part, boolean plusIsSpace, String what)
            throws ConfigException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length() || Character.digit(s.charAt(i + 1), 16) < 0
                        || Character.digit(s.charAt(i + 2), 16) < 0) {
                    throw new ConfigException(what + " has an invalid %-escape in its " + part
                            + ": write a literal % as %25, and percent-encode @ : / ? # & in user names and passwords");
                }
                out.write(Character.digit(s.charAt(i + 1), 16) * 16 + Character.digit(s.charAt(i + 2), 16));
                i += 2;
            } else if (c == '+' && plusIsSpace) {
                out.write(' ');
            } else {
                byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
                if (Character.isHighSurrogate(c) && i + 1 < s.length()) {
                    bytes = s.substring(i, i + 2).getBytes(StandardCharsets.UTF_8);
                    i++;
                }
                out.writeBytes(bytes);
            }
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
