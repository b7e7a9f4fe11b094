package com.perseusproxy.core.session;

import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.protocol.PgException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a StartupMessage says about the tenant: user, database, schema, and the session settings to carry.
 *
 * <p>Drivers name the schema in different ways, all accepted, in this order of precedence:
 * <ul>
 *   <li>{@code schema_search_path} - Perseus's own parameter (Go's lib/pq passes unknown DSN keys through);</li>
 *   <li>{@code search_path} - what pgjdbc's {@code currentSchema=} sends;</li>
 *   <li>{@code options} with {@code -c search_path=...} or {@code --search_path=...} - libpq, psql, psycopg,
 *       node-postgres.</li>
 * </ul>
 * A search_path list names the tenant by its first element.
 *
 * <p>Every other parameter, given directly or in {@code options}, is a session setting: carried if it is tracked
 * ({@link TrackedSettings}), else listed in {@code dropped} (names only: values may be secrets), except the few that
 * are harmless to drop, so that the session can say once at login what transaction pooling does not carry.
 */
public record TenantStartup(String user, String database, String schema, Map<String, String> settings,
                            List<String> dropped) {

    private static final Logger log = LoggerFactory.getLogger(TenantStartup.class);
    /** Startup parameters that change nothing a client could notice if dropped. */
    private static final Set<String> HARMLESS = Set.of("fallback_application_name");

    public TenantStartup(String user, String database, String schema, Map<String, String> settings) {
        this(user, database, schema, settings, List.of());
    }

    /** With the default tracked settings. */
    public static TenantStartup parse(Map<String, String> parameters) {
        return parse(parameters, TrackedSettings.DEFAULT);
    }

    public static TenantStartup parse(Map<String, String> parameters, TrackedSettings tracked) {
        String user = parameters.get("user");
        if (user == null || user.isEmpty()) {
            throw new PgException("28000", "no user name in the startup packet; set the connection's user"
                    + " (libpq/psql: user=, pgjdbc: user=)");
        }
        String database = parameters.get("database");
        if (database == null || database.isEmpty()) {
            throw new PgException("3D000", "no database in the startup packet; set the connection's database"
                    + " (libpq/psql: dbname=, pgjdbc: the URL path)");
        }
        Map<String, String> settings = new LinkedHashMap<>();
        List<String> dropped = new ArrayList<>();
        String optionsSchema = null;
        for (Map.Entry<String, String> parameter : parameters.entrySet()) {
            String name = parameter.getKey();
            if (name.equals("options")) {
                for (String[] setting : parseOptions(parameter.getValue())) {
                    if (setting[0].equalsIgnoreCase("search_path")) {
                        optionsSchema = setting[1];
                    } else {
                        putSetting(tracked, settings, dropped, setting[0], setting[1]);
                    }
                }
            } else if (!List.of("user", "database", "search_path", "schema_search_path").contains(name)
                    && !name.startsWith("_pq_.")) {
                putSetting(tracked, settings, dropped, name, parameter.getValue());
            }
        }
        String schemaText = firstNonEmpty(parameters.get("schema_search_path"), parameters.get("search_path"),
                optionsSchema);
        if (schemaText == null) {
            throw new PgException("3F000", "no tenant schema given; set the startup parameter schema_search_path,"
                    + " or search_path (pgjdbc: currentSchema=<schema>), or options='-c search_path=<schema>'"
                    + " (libpq, psql, psycopg)");
        }
        String schema = firstSchema(schemaText);
        if (schema.isEmpty()) {
            throw new PgException("3F000", "the tenant schema given in the startup packet is empty");
        }
        return new TenantStartup(user, database, schema, settings, List.copyOf(dropped));
    }

    /** Names, once per login, the startup parameters transaction pooling does not carry (never their values). */
    void logDropped(java.net.SocketAddress client) {
        if (!dropped.isEmpty()) {
            log.info("client {} ({}): startup parameters not carried in transaction pooling, dropped: {}"
                    + " (ClientSettings.TrackExtraParameters lists those carried)", client, this,
                    String.join(", ", dropped));
        }
    }

    private static void putSetting(TrackedSettings tracked, Map<String, String> settings, List<String> dropped,
                                   String name, String value) {
        String canonical = tracked.canonicalName(name);
        if (tracked.isTracked(canonical)) {
            settings.put(canonical, value);
        } else if (!HARMLESS.contains(canonical) && !dropped.contains(canonical)) {
            dropped.add(canonical);
        }
    }

    private static String firstNonEmpty(String... values) {
        for (String value : values) {
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return null;
    }

    /**
     * The first element of a search_path list: {@code tenant_a, public} gives {@code tenant_a}; a double-quoted
     * element is unquoted ({@code "My ""odd"" schema"} gives {@code My "odd" schema}).
     */
    static String firstSchema(String searchPath) {
        String text = searchPath.trim();
        if (text.startsWith("\"")) {
            StringBuilder name = new StringBuilder();
            for (int i = 1; i < text.length(); i++) {
                char c = text.charAt(i);
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        name.append('"');
                        i++;
                    } else {
                        return name.toString();
                    }
                } else {
                    name.append(c);
                }
            }
            throw new PgException("3F000", "unterminated double quote in the tenant schema " + searchPath);
        }
        int comma = text.indexOf(',');
        return (comma >= 0 ? text.substring(0, comma) : text).trim();
    }

    /**
     * Splits libpq's {@code options} (whitespace-separated, backslash escapes the next character) and returns the
     * {@code -c name=value}, {@code -cname=value} and {@code --name=value} settings as name/value pairs.
     */
    static List<String[]> parseOptions(String options) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        for (int i = 0; i < options.length(); i++) {
            char c = options.charAt(i);
            if (c == '\\' && i + 1 < options.length()) {
                word.append(options.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        List<String[]> settings = new ArrayList<>();
        for (int i = 0; i < words.size(); i++) {
            String w = words.get(i);
            String assignment = null;
            if (w.equals("-c") && i + 1 < words.size()) {
                assignment = words.get(++i);
            } else if (w.startsWith("-c")) {
                assignment = w.substring(2);
            } else if (w.startsWith("--")) {
                assignment = w.substring(2);
            }
            int eq = assignment == null ? -1 : assignment.indexOf('=');
            if (eq > 0) {
                settings.add(new String[] {assignment.substring(0, eq).replace('-', '_'), assignment.substring(eq + 1)});
            }
        }
        return settings;
    }

    @Override
    public String toString() {
        return user + "@" + database + "/" + schema;
    }
}
