package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Session state never crosses from one tenant to the next on a shared backend. On a pool of one connection, for each
 * kind of session state on its own, tenant A leaves it behind; a second client of A still finds it (the documented
 * same-tenant rule, and the proof that the state really was on the backend); then tenant B, on the very same backend
 * ({@code pg_backend_pid()} is compared), finds exactly what it found before A acted. One kind at a time, so that a
 * state wiped for another reason cannot hide one that is missed. Through pgjdbc and through psql.
 */
class CrossTenantLeakTest {

    private static final SampleTenant A = Fixtures.TENANT_A;
    private static final SampleTenant B = Fixtures.TENANT_B;
    private static final String ROLE = "leak_probe_role";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static PerseusService proxy;

    /** One kind of session state: what A runs (each an autocommit statement) and what B asks. */
    record Kind(String name, List<String> leave, String probe) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Kind> kinds() {
        return Stream.of(
                new Kind("custom setting by SET", List.of("set app.tenant_id = 'A'"),
                        customSettingProbe()),
                new Kind("custom setting by set_config", List.of("select set_config('app.tenant_id', 'A', false)"),
                        customSettingProbe()),
                new Kind("CREATE TEMP TABLE", List.of("create temp table leak_t (v text)",
                        "insert into leak_t values ('A')"), tempTableProbe()),
                new Kind("CREATE TEMP TABLE AS", List.of("create temp table leak_t as select 'A'::text as v"),
                        tempTableProbe()),
                new Kind("SELECT INTO TEMP", List.of("select 'A'::text as v into temp leak_t"), tempTableProbe()),
                new Kind("session advisory lock", List.of("select pg_advisory_lock(42)"),
                        "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"),
                new Kind("LISTEN", List.of("listen leak_channel"), "select count(*) from pg_listening_channels()"),
                new Kind("SQL PREPARE", List.of("prepare leak_p as select 'A'"),
                        "select count(*) from pg_prepared_statements where from_sql"),
                new Kind("WITH HOLD cursor", List.of("begin", "declare leak_c cursor with hold for select 'A'",
                        "commit"), "select count(*) from pg_cursors"),
                new Kind("role by SET ROLE", List.of("set role " + ROLE), "select current_user"),
                new Kind("role by set_config", List.of("select set_config('role', '" + ROLE + "', false)"),
                        "select current_user"),
                new Kind("statement_timeout by set_config",
                        List.of("select set_config('statement_timeout', '1234', false)"),
                        "select current_setting('statement_timeout')"),
                new Kind("sequence currval", List.of("select nextval('public.leak_seq')"),
                        "select currval('public.leak_seq')"));
    }

    /**
     * A custom setting's name survives any reset with an empty value (PostgreSQL keeps the placeholder, as after
     * DISCARD ALL), so "unset" and "empty" both count as none; A's value must never be seen.
     */
    private static String customSettingProbe() {
        return "select coalesce(nullif(current_setting('app.tenant_id', true), ''), '<none>')";
    }

    private static String tempTableProbe() {
        return "select coalesce(to_regclass('pg_temp.leak_t')::text, '<none>')";
    }

    @BeforeAll
    static void start() {
        TestPostgres pg = Fixtures.postgres();
        String owner = TestPostgres.APP_OWNER.name();
        pg.execute(TestPostgres.APP_DB,
                "do $$ begin if not exists (select from pg_roles where rolname = '" + ROLE + "') then"
                        + " create role " + ROLE + " nologin; end if; end $$",
                "grant " + ROLE + " to " + owner,
                "create sequence if not exists public.leak_seq",
                "grant usage, select on sequence public.leak_seq to " + owner);
        if (Targets.viaProxy()) {
            proxy = TestProxy.startDedicated(1);
        }
    }

    @AfterAll
    static void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Target target(SampleTenant tenant) {
        return Targets.viaProxy(tenant, "127.0.0.1", proxy.port());
    }

    @ParameterizedTest(name = "pgjdbc: {0}")
    @MethodSource("kinds")
    void noKindOfSessionStateReachesAnotherTenantThroughPgjdbc(Kind kind) throws SQLException {
        if (proxy == null) {
            return; // against PostgreSQL directly, every client has a backend of its own: nothing to share
        }
        try (Connection b = target(B).connect("preferQueryMode", "simple");
             Connection a = target(A).connect();
             Connection a2 = target(A).connect()) {
            String before = jdbcProbe(b, kind.probe());
            int backend = jdbcPid(b);
            for (String sql : kind.leave()) {
                try (Statement st = a.createStatement()) {
                    st.execute(sql);
                }
            }
            assertEquals(backend, jdbcPid(a), "one backend serves both tenants");
            assertNotEquals(before, jdbcProbe(a2, kind.probe()),
                    kind + ": another client of tenant A finds A's state (same-tenant rule; the state is real)");
            assertEquals(backend, jdbcPid(b), "tenant B is on the same backend as tenant A");
            assertEquals(before, jdbcProbe(b, kind.probe()), kind + ": tenant B finds none of tenant A's state");
        }
    }

    @ParameterizedTest(name = "psql: {0}")
    @MethodSource("kinds")
    void noKindOfSessionStateReachesAnotherTenantThroughPsql(Kind kind) {
        if (proxy == null) {
            return;
        }
        List<String> before = psql(B, "select pg_backend_pid()", kind.probe());
        List<String> leave = new ArrayList<>(kind.leave());
        leave.add("select pg_backend_pid()");
        List<String> left = psql(A, leave.toArray(String[]::new));
        assertEquals(before.get(0), left.get(left.size() - 1), "one backend serves both tenants");
        List<String> sameTenant = psql(A, "select pg_backend_pid()", kind.probe());
        assertNotEquals(before.get(1), sameTenant.get(1), kind + ": tenant A's next client finds its state");
        List<String> after = psql(B, "select pg_backend_pid()", kind.probe());
        assertEquals(before.get(0), after.get(0), "tenant B is on the same backend as tenant A");
        assertEquals(before.get(1), after.get(1), kind + ": tenant B finds none of tenant A's state");
    }

    /**
     * Named prepared statements survive tenant switches: two tenants run {@code pgbench -M prepared} at once on a pool
     * of one connection, so the backend changes tenant over and over, and no transaction fails.
     */
    @Test
    void pgbenchPreparedOfTwoTenantsOnOneConnection() throws Exception {
        if (proxy == null) {
            return;
        }
        java.nio.file.Path script = java.nio.file.Files.createTempFile("leak-bench-", ".sql");
        java.nio.file.Files.writeString(script, "select count(*) from notes where id = 1;\n"
                + "select count(*), current_schema() from notes;\n");
        try {
            List<Process> runs = new ArrayList<>();
            List<java.nio.file.Path> outputs = new ArrayList<>();
            for (SampleTenant tenant : List.of(A, B)) {
                java.nio.file.Path out = java.nio.file.Files.createTempFile("leak-bench-", ".out");
                outputs.add(out);
                Target t = target(tenant);
                ProcessBuilder pb = new ProcessBuilder(PgTools.pgbench(t, "--no-vacuum", "-n", "-M", "prepared",
                        "-c", "2", "-j", "1", "-t", "200", "-f", script.toString()))
                        .redirectErrorStream(true).redirectOutput(out.toFile());
                pb.environment().putAll(t.processEnv());
                runs.add(pb.start());
            }
            Pattern processed = Pattern.compile("number of transactions actually processed: (\\d+)/(\\d+)");
            for (int i = 0; i < runs.size(); i++) {
                assertTrue(runs.get(i).waitFor(TIMEOUT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS));
                String output = java.nio.file.Files.readString(outputs.get(i));
                assertEquals(0, runs.get(i).exitValue(), output);
                Matcher m = processed.matcher(output);
                assertTrue(m.find(), output);
                assertEquals(m.group(2), m.group(1), "every transaction succeeded\n" + output);
                assertTrue(!output.contains("number of failed transactions: ")
                        || output.contains("number of failed transactions: 0 "), output);
                java.nio.file.Files.deleteIfExists(outputs.get(i));
            }
            assertTrue(proxy.proxy().pools().pools().stream().allMatch(p -> p.stats().openedTotal() <= 1),
                    "both tenants shared the one backend connection");
        } finally {
            java.nio.file.Files.deleteIfExists(script);
        }
    }

    private static List<String> psql(SampleTenant tenant, String... statements) {
        Target t = target(tenant);
        List<String> args = new ArrayList<>();
        for (String sql : statements) {
            args.add("-c");
            args.add(sql);
        }
        PgTools.Result r = PgTools.run(PgTools.psql(t, args.toArray(String[]::new)), t, TIMEOUT);
        List<String> lines = new ArrayList<>(r.stdout().lines().map(String::strip).toList());
        if (!r.ok()) {
            // A probe that errors (currval before nextval) answers with its error, which is compared as a value.
            lines.add("ERROR " + r.stderr().lines().findFirst().orElse("").replaceFirst("^psql:[^E]*", ""));
        }
        return lines;
    }

    private static String jdbcProbe(Connection c, String sql) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "ERROR " + e.getSQLState();
        }
    }

    private static int jdbcPid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
