package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * psql (libpq) names the schema with {@code options=-c search_path=...}, as psycopg and node-postgres do. Skipped
 * when psql is not installed.
 */
class PsqlTest {

    private static final SampleTenant TENANT = Fixtures.TENANT_B;
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void commandRunsInTheTenantsSchema() {
        Target target = Targets.forTenant(TENANT);
        PgTools.Result r = PgTools.run(PgTools.psql(target, "-c",
                "select current_schema(), (select count(*) > 0 from notes)"), target, TIMEOUT);
        assertTrue(r.ok(), r.describe());
        assertEquals(TENANT.schema() + "|t", r.stdout().strip());
    }

    @Test
    void multiStatementCommandShowsEveryResult() {
        // One simple Query message with three statements and a transaction in the middle.
        Target target = Targets.forTenant(TENANT);
        PgTools.Result r = PgTools.run(PgTools.psql(target, "-c",
                "select 1; begin; select current_schema(); commit; select 'done'"), target, TIMEOUT);
        assertTrue(r.ok(), r.describe());
        assertEquals(List.of("1", TENANT.schema(), "done"), r.stdout().strip().lines().toList());
    }

    @Test
    void scriptFileWithATransaction(@TempDir Path dir) throws IOException {
        String body = Fixtures.body(TENANT, "psql-" + UUID.randomUUID());
        Path script = dir.resolve("script.sql");
        Files.writeString(script, String.join("\n",
                "begin;",
                "insert into notes (body) values ('" + body + "');",
                "select count(*) from notes where body = '" + body + "';",
                "commit;",
                "select current_schema();",
                "-- every row this tenant can see starts with its own schema name",
                "select string_agg(distinct split_part(body, ':', 1), ',') from notes;",
                "delete from notes where body = '" + body + "';",
                "select count(*) from notes where body = '" + body + "';",
                ""));
        Target target = Targets.forTenant(TENANT);
        PgTools.Result r = PgTools.run(PgTools.psql(target, "-f", script.toString()), target, TIMEOUT);
        assertTrue(r.ok(), r.describe());
        assertEquals(List.of("1", TENANT.schema(), TENANT.schema(), "0"), r.stdout().strip().lines().toList());
    }

    @Test
    void errorStopsTheScriptWithTheServersMessage() {
        Target target = Targets.forTenant(TENANT);
        PgTools.Result r = PgTools.run(PgTools.psql(target, "-c", "select 1/0"), target, TIMEOUT);
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains("division by zero"), r.describe());
    }

    @Test
    void doubleDashOptionFormAlsoSetsTheSchema() {
        // libpq also accepts options=--search_path=<schema>; PostgreSQL treats it like -c.
        Target target = Targets.forTenant(TENANT);
        String conninfo = target.libpqConnString().replace("-c search_path=", "--search_path=");
        PgTools.Result r = PgTools.run(List.of(PgTools.require("psql").toString(), "-X", "-A", "-t",
                "-d", conninfo, "-c", "select current_schema()"), target, TIMEOUT);
        assertTrue(r.ok(), r.describe());
        assertEquals(TENANT.schema(), r.stdout().strip());
    }
}
