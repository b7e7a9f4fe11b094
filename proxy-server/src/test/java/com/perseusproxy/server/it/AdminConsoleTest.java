package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The admin console through psql and the raw protocol: every SHOW and command, who may use it, KILL_CLIENT, and that
 * no secret appears in anything it shows.
 */
class AdminConsoleTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final List<String> SHOWS = List.of("POOLS", "CLIENTS", "SERVERS", "STATS", "STATS_TOTALS",
            "STATS_AVERAGES", "DATABASES", "USERS", "LISTS", "CONFIG", "VERSION", "STATE", "TENANTS", "CREDENTIALS",
            "ROTATION", "THROTTLE", "HELP");

    private static AdminBed bed;

    @BeforeAll
    static void start() {
        bed = AdminBed.start(3, "");
    }

    @AfterAll
    static void stop() {
        if (bed != null) {
            bed.close();
        }
    }

    @Test
    void psqlRunsEveryShowAndCommand() throws Exception {
        // A tenant client first, so the pools, servers, tenants and credentials have rows.
        try (PgWire tenant = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
            tenant.login(bed.tenant(Fixtures.TENANT_A));
            assertEquals(List.of("1"), tenant.queryColumn("select 1"));
            for (String show : SHOWS) {
                PgTools.Result r = PgTools.run(PgTools.psql(bed.admin(), "-c", "SHOW " + show), bed.admin(), TIMEOUT);
                assertTrue(r.ok(), "SHOW " + show + ": " + r.describe());
            }
            PgTools.Result pools = PgTools.run(PgTools.psql(bed.admin(), "-c", "SHOW POOLS"), bed.admin(), TIMEOUT);
            assertTrue(pools.stdout().contains("appdb|app_owner|"), pools.describe());
            PgTools.Result tenants = PgTools.run(PgTools.psql(bed.admin(), "-c", "show tenants;"), bed.admin(),
                    TIMEOUT);
            assertTrue(tenants.stdout().contains("appdb|tenant_a|alice|"), tenants.describe());
            for (String command : List.of("RELOAD", "PAUSE appdb", "RESUME appdb", "PAUSE", "RESUME", "RECONNECT",
                    "WAIT_CLOSE", "RECONNECT appdb", "WAIT_CLOSE appdb", "KILL appdb", "RESUME appdb")) {
                PgTools.Result r = PgTools.run(PgTools.psql(bed.admin(), "-c", command), bed.admin(), TIMEOUT);
                assertTrue(r.ok(), command + ": " + r.describe());
            }
            // KILL closed the tenant's session with 57P01.
            PgWire.Message error = tenant.awaitErrorOrClose();
            assertTrue(error == null || "57P01".equals(error.sqlState()), "KILL ended the tenant session: " + error);
        }
        // After KILL and RESUME the pool serves again.
        try (PgWire again = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
            again.login(bed.tenant(Fixtures.TENANT_A));
            assertEquals(List.of("2"), again.queryColumn("select 2"));
        }
        String clientId;
        try (PgWire victim = PgWire.open(bed.tenant(Fixtures.TENANT_B))) {
            victim.login(bed.tenant(Fixtures.TENANT_B), PgWire.PROTOCOL_3_0, params(Fixtures.TENANT_B, "psql-victim"));
            clientId = clientIdOf("psql-victim");
            PgTools.Result r = PgTools.run(PgTools.psql(bed.admin(), "-c", "KILL_CLIENT " + clientId), bed.admin(),
                    TIMEOUT);
            assertTrue(r.ok(), r.describe());
            PgWire.Message error = victim.awaitErrorOrClose();
            assertNotNull(error, "the killed client got an error before the close");
            assertEquals("57P01", error.sqlState(), error.toString());
        }
    }

    @Test
    void killClientEndsExactlyThatClient() throws Exception {
        try (PgWire victim = PgWire.open(bed.tenant(Fixtures.TENANT_A));
             PgWire bystander = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
            victim.login(bed.tenant(Fixtures.TENANT_A), PgWire.PROTOCOL_3_0, params(Fixtures.TENANT_A, "victim"));
            bystander.login(bed.tenant(Fixtures.TENANT_A), PgWire.PROTOCOL_3_0,
                    params(Fixtures.TENANT_A, "bystander"));
            victim.simpleQuery("begin");
            victim.simpleQuery("select 1"); // inside a transaction: it holds a backend
            String id = clientIdOf("victim");
            try (PgWire admin = bed.adminWire()) {
                List<PgWire.Message> reply = admin.simpleQuery("KILL_CLIENT " + id);
                assertEquals("CZ", PgWire.types(reply), reply.toString());
                PgWire.Message error = victim.awaitErrorOrClose();
                assertNotNull(error);
                assertEquals("57P01", error.sqlState());
                assertEquals(List.of("3"), bystander.queryColumn("select 3"), "the other client is untouched");
                List<String> apps = AdminBed.column(admin.simpleQuery("SHOW CLIENTS"), "application_name");
                assertFalse(apps.contains("victim"), apps.toString());
                assertTrue(apps.contains("bystander"), apps.toString());
                List<PgWire.Message> unknown = admin.simpleQuery("KILL_CLIENT " + id);
                assertEquals("42704", unknown.get(0).sqlState(), unknown.toString());
            }
        }
    }

    @Test
    void showClientsNamesTheStartupParametersTheProxyDoesNotCarry() throws Exception {
        Map<String, String> asked = params(Fixtures.TENANT_A, "dropper");
        asked.put("geqo", "off");
        asked.put("options", "-c enable_seqscan=off -c statement_timeout=5000");
        try (PgWire client = PgWire.open(bed.tenant(Fixtures.TENANT_A));
             PgWire plain = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
            client.login(bed.tenant(Fixtures.TENANT_A), PgWire.PROTOCOL_3_0, asked);
            plain.login(bed.tenant(Fixtures.TENANT_A), PgWire.PROTOCOL_3_0, params(Fixtures.TENANT_A, "plain"));
            try (PgWire admin = bed.adminWire()) {
                List<PgWire.Message> clients = admin.simpleQuery("SHOW CLIENTS");
                List<String> apps = AdminBed.column(clients, "application_name");
                List<String> dropped = AdminBed.column(clients, "dropped_params");
                // statement_timeout is tracked (carried), application_name is reported: neither is dropped.
                assertEquals("geqo,enable_seqscan", dropped.get(apps.indexOf("dropper")), dropped.toString());
                assertEquals("", dropped.get(apps.indexOf("plain")), dropped.toString());
                for (List<String> row : AdminBed.rows(clients)) {
                    assertFalse(row.contains("off"), "a parameter's value is shown: " + row);
                }
            }
        }
    }

    @Test
    void tenantUsersCannotUseTheConsoleAndStatsUsersOnlyShow() {
        Target tenantAsConsole = bed.console(Fixtures.TENANT_A.user(), Fixtures.TENANT_A.password());
        try (PgWire wire = PgWire.open(tenantAsConsole)) {
            PgWire.ServerError refused = assertThrows(PgWire.ServerError.class, () -> wire.login(tenantAsConsole,
                    PgWire.PROTOCOL_3_0, Map.of("user", Fixtures.TENANT_A.user(), "database", "pgbouncer")));
            assertEquals("28P01", refused.sqlState());
        }
        Target wrong = bed.console(AdminBed.ADMIN, "not-the-password");
        try (PgWire wire = PgWire.open(wrong)) {
            PgWire.ServerError refused = assertThrows(PgWire.ServerError.class, () -> wire.login(wrong,
                    PgWire.PROTOCOL_3_0, Map.of("user", AdminBed.ADMIN, "database", "perseus")));
            assertEquals("28P01", refused.sqlState());
        }
        Target stats = bed.console(AdminBed.STATS, AdminBed.STATS_PASSWORD);
        try (PgWire wire = PgWire.open(stats)) {
            wire.login(stats, PgWire.PROTOCOL_3_0, Map.of("user", AdminBed.STATS, "database", "pgbouncer"));
            assertEquals(List.of(com.perseusproxy.core.admin.AdminConsole.VERSION),
                    PgWire.firstColumn(wire.simpleQuery("SHOW VERSION")));
            List<PgWire.Message> pause = wire.simpleQuery("PAUSE");
            assertEquals("42501", pause.get(0).sqlState(), pause.toString());
            List<PgWire.Message> sql = wire.simpleQuery("select * from pg_authid");
            assertEquals("42601", sql.get(0).sqlState(), sql.toString());
            List<PgWire.Message> extended = new ArrayList<>();
            wire.send(PgWire.extendedQuery("SHOW POOLS"));
            extended.addAll(wire.readUntilReady(1));
            assertEquals("0A000", extended.get(0).sqlState(), extended.toString());
            assertEquals(List.of("1"), AdminBed.column(wire.simpleQuery("SHOW STATE"), "active").stream()
                    .map(v -> v.equals("yes") ? "1" : "0").toList());
        }
    }

    @Test
    void nothingShownHoldsASecret() {
        try (PgWire tenant = PgWire.open(bed.tenant(Fixtures.TENANT_A)); PgWire admin = bed.adminWire()) {
            tenant.login(bed.tenant(Fixtures.TENANT_A));
            tenant.queryColumn("select 1");
            StringBuilder everything = new StringBuilder();
            for (String show : SHOWS) {
                for (List<String> row : AdminBed.rows(admin.simpleQuery("SHOW " + show))) {
                    everything.append(row).append('\n');
                }
            }
            List<String> secrets = new ArrayList<>(TestPostgres.storedSecrets(Fixtures.postgres()));
            secrets.addAll(List.of(AdminBed.adminHash(), AdminBed.statsHash(), AdminBed.ADMIN_PASSWORD,
                    AdminBed.STATS_PASSWORD, TestPostgres.APP_OWNER.password(), Fixtures.TENANT_A.password()));
            for (String secret : secrets) {
                for (String part : secret.split(",")) {
                    assertFalse(everything.toString().contains(part), "the console showed a secret");
                }
            }
            assertTrue(everything.toString().contains("app_owner/"), "credentials appear as fingerprints");
        }
    }

    @Test
    void noSecretReachesTheLogs() {
        try (CapturedLogs logs = new CapturedLogs()) {
            try (PgWire admin = bed.adminWire()) {
                admin.simpleQuery("SHOW CONFIG");
                admin.simpleQuery("RELOAD");
                admin.simpleQuery("SHOW CREDENTIALS");
            }
            Target wrong = bed.console(AdminBed.ADMIN, "wrong-console-password");
            try (PgWire wire = PgWire.open(wrong)) {
                assertThrows(PgWire.ServerError.class, () -> wire.login(wrong, PgWire.PROTOCOL_3_0,
                        Map.of("user", AdminBed.ADMIN, "database", "pgbouncer")));
            }
            assertTrue(logs.size() > 0, "the console logged something");
            List<String> secrets = new ArrayList<>(TestPostgres.storedSecrets(Fixtures.postgres()));
            secrets.addAll(List.of(AdminBed.adminHash(), AdminBed.statsHash(), AdminBed.ADMIN_PASSWORD,
                    "wrong-console-password", TestPostgres.APP_OWNER.password()));
            logs.assertNoneContains(secrets);
        }
    }

    private static Map<String, String> params(com.perseusproxy.server.demo.SampleDatabase.SampleTenant tenant,
                                              String application) {
        Map<String, String> params = new LinkedHashMap<>(PgWire.startupParameters(bed.tenant(tenant)));
        params.put("application_name", application);
        return params;
    }

    /** SHOW CLIENTS' ptr of the client with this application_name. */
    private static String clientIdOf(String application) {
        try (PgWire admin = bed.adminWire()) {
            List<PgWire.Message> clients = admin.simpleQuery("SHOW CLIENTS");
            List<String> apps = AdminBed.column(clients, "application_name");
            List<String> ptrs = AdminBed.column(clients, "ptr");
            int index = apps.indexOf(application);
            assertTrue(index >= 0, "SHOW CLIENTS lists " + application + ": " + apps);
            return ptrs.get(index);
        }
    }
}
