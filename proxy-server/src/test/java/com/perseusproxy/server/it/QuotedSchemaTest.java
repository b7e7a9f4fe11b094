package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A tenant whose schema name is an SQL injection ({@code evil"; drop table x; --}). Perseus pastes the schema into
 * {@code SET search_path='...'} unquoted; the right behaviour is that the tenant simply works, in its own schema, and
 * every table named {@code x} elsewhere survives.
 */
class QuotedSchemaTest {

    /** Canary tables that the injection would drop, in the schemas a broken search_path could resolve to. */
    private static final List<String> CANARIES = List.of("public.x", "tenant_a.x");

    @BeforeEach
    void createCanaries() {
        for (String table : CANARIES) {
            Fixtures.postgres().execute(TestPostgres.APP_DB, "create table if not exists " + table + " (id int)",
                    "alter table " + table + " owner to app_owner");
        }
    }

    @AfterEach
    void canariesSurvived() {
        for (String table : CANARIES) {
            assertEquals(1, Fixtures.postgres().queryLong(TestPostgres.APP_DB,
                    "select count(*) from pg_tables where schemaname || '.' || tablename = '" + table + "'"),
                    table + " still exists");
        }
        Fixtures.postgres().execute(TestPostgres.APP_DB, "drop table if exists public.x, tenant_a.x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void pgjdbcClientSeesOnlyItsOwnSchema(String mode) throws SQLException {
        String schema = Fixtures.EVIL.schema();
        try (Connection c = Targets.forTenant(Fixtures.EVIL).connect("preferQueryMode", mode);
             Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select current_schema()")) {
                rs.next();
                assertEquals(schema, rs.getString(1));
            }
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = st.executeQuery("select table_name from information_schema.tables"
                    + " where table_schema = current_schema() order by 1")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            assertEquals(List.of("notes"), tables, "only the tenant's own tables");
            try (ResultSet rs = st.executeQuery(
                    "select count(*), bool_and(starts_with(body, current_schema() || ':')) from notes")) {
                rs.next();
                assertTrue(rs.getInt(1) >= 3);
                assertTrue(rs.getBoolean(2), "every row belongs to this tenant");
            }
            SQLException missing = assertThrows(SQLException.class,
                    () -> st.executeQuery("select * from x"));
            assertEquals("42P01", missing.getSQLState(), "no other schema's x is on the search_path");
        }
    }

    @Test
    void psqlClientWithTheSchemaInOptions() {
        Target target = Targets.forTenant(Fixtures.EVIL);
        PgTools.Result r = PgTools.run(PgTools.psql(target, "-c",
                "select current_schema(), (select count(*) from notes) >= 3"), target, Duration.ofSeconds(30));
        assertTrue(r.ok(), r.describe());
        assertEquals(Fixtures.EVIL.schema() + "|t", r.stdout().strip());
    }
}
