package com.perseusproxy.core.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.protocol.PgException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TenantStartupTest {

    // ---- the schema ----------------------------------------------------------------------------------------------

    @Test
    void schemaFromSchemaSearchPath() {
        assertEquals("tenant_a", schemaOf("schema_search_path", "tenant_a"));
    }

    @Test
    void schemaFromSearchPath() {
        assertEquals("tenant_a", schemaOf("search_path", "tenant_a"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "-c search_path=tenant_a",
        "-csearch_path=tenant_a",
        "--search_path=tenant_a",
        "--search-path=tenant_a",
        "  -c   search_path=tenant_a  ",
        "-c statement_timeout=0 -c search_path=tenant_a",
        "-c SEARCH_PATH=tenant_a"})
    void schemaFromOptions(String options) {
        assertEquals("tenant_a", schemaOf("options", options));
    }

    @Test
    void backslashEscapedSpaceInOptionsIsPartOfTheValue() {
        assertEquals("My Schema", schemaOf("options", "-c search_path=My\\ Schema"));
    }

    @Test
    void backslashEscapedBackslashInOptions() {
        assertEquals("a\\b", schemaOf("options", "-c search_path=a\\\\b"));
    }

    @Test
    void schemaSearchPathWinsOverSearchPathAndOptions() {
        TenantStartup startup = parse("schema_search_path", "first", "search_path", "second",
                "options", "-c search_path=third");
        assertEquals("first", startup.schema());
    }

    @Test
    void searchPathWinsOverOptions() {
        assertEquals("second", parse("options", "-c search_path=third", "search_path", "second").schema());
    }

    @Test
    void blankParametersFallThroughToTheNextSource() {
        assertEquals("third", parse("schema_search_path", "", "search_path", "  ",
                "options", "-c search_path=third").schema());
    }

    @Test
    void firstElementOfAList() {
        assertEquals("tenant_a", schemaOf("search_path", " tenant_a , public, \"$user\""));
    }

    @Test
    void quotedFirstElementIsUnquoted() {
        assertEquals("My \"odd\" schema", schemaOf("search_path", "\"My \"\"odd\"\" schema\", public"));
    }

    @Test
    void quotedFirstElementMayContainACommaAndSpaces() {
        assertEquals(" a, b ", schemaOf("schema_search_path", "\" a, b \",public"));
    }

    @Test
    void quotedElementFromOptions() {
        assertEquals("Tenant A", schemaOf("options", "-c search_path=\"Tenant\\ A\",public"));
    }

    @Test
    void hostileSchemaNameIsTakenVerbatim() {
        assertEquals("evil\"; drop table x; --", schemaOf("search_path", "\"evil\"\"; drop table x; --\""));
    }

    @Test
    void unterminatedQuoteIsAnError() {
        PgException error = assertThrows(PgException.class, () -> parse("search_path", "\"tenant_a, public"));
        assertEquals("3F000", error.sqlState());
    }

    @Test
    void emptyFirstElementIsAnError() {
        PgException error = assertThrows(PgException.class, () -> parse("search_path", ", public"));
        assertEquals("3F000", error.sqlState());
        assertTrue(error.getMessage().contains("empty"), error.getMessage());
    }

    @Test
    void missingSchemaNamesEveryWayToSetIt() {
        PgException error = assertThrows(PgException.class, () -> parse("options", "-c TimeZone=UTC"));
        assertEquals("3F000", error.sqlState());
        assertTrue(error.fatal());
        assertTrue(error.getMessage().contains("schema_search_path"), error.getMessage());
        assertTrue(error.getMessage().contains("search_path"), error.getMessage());
        assertTrue(error.getMessage().contains("options"), error.getMessage());
    }

    @Test
    void searchPathWithoutValueInOptionsDoesNotNameASchema() {
        assertThrows(PgException.class, () -> parse("options", "-c search_path"));
        assertThrows(PgException.class, () -> parse("options", "-c"));
    }

    // ---- user and database -------------------------------------------------------------------------------------

    @Test
    void userAndDatabaseAreTaken() {
        TenantStartup startup = parse("search_path", "tenant_a");
        assertEquals("alice", startup.user());
        assertEquals("appdb", startup.database());
        assertEquals("alice@appdb/tenant_a", startup.toString());
    }

    @Test
    void missingUserIsAnErrorNamingTheParameter() {
        Map<String, String> parameters = withoutKey("user");
        PgException error = assertThrows(PgException.class, () -> TenantStartup.parse(parameters));
        assertEquals("28000", error.sqlState());
        assertTrue(error.getMessage().contains("user="), error.getMessage());
    }

    @Test
    void emptyUserIsAnError() {
        Map<String, String> parameters = withoutKey("user");
        parameters.put("user", "");
        assertEquals("28000", assertThrows(PgException.class, () -> TenantStartup.parse(parameters)).sqlState());
    }

    @Test
    void missingDatabaseIsAnErrorNamingTheParameter() {
        Map<String, String> parameters = withoutKey("database");
        PgException error = assertThrows(PgException.class, () -> TenantStartup.parse(parameters));
        assertEquals("3D000", error.sqlState());
        assertTrue(error.getMessage().contains("database"), error.getMessage());
        assertTrue(error.getMessage().contains("dbname="), error.getMessage());
    }

    // ---- carried settings --------------------------------------------------------------------------------------

    @Test
    void trackedSettingsAreCollectedUnderTheServersSpelling() {
        TenantStartup startup = parse("search_path", "tenant_a", "datestyle", "ISO, DMY", "TIMEZONE", "UTC",
                "intervalstyle", "iso_8601", "Application_Name", "app", "client_encoding", "UTF8",
                "extra_float_digits", "3", "standard_conforming_strings", "on");
        assertEquals(Map.of("DateStyle", "ISO, DMY", "TimeZone", "UTC", "IntervalStyle", "iso_8601",
                "application_name", "app", "client_encoding", "UTF8", "extra_float_digits", "3",
                "standard_conforming_strings", "on"), startup.settings());
    }

    @Test
    void trackedSettingsFromOptionsAreCollected() {
        TenantStartup startup = parse("options",
                "-c search_path=tenant_a -c TimeZone=UTC --datestyle=ISO -capplication_name=my\\ app");
        assertEquals(Map.of("TimeZone", "UTC", "DateStyle", "ISO", "application_name", "my app"),
                startup.settings());
    }

    @Test
    void untrackedParametersAreDroppedAndNamedButHarmlessOnesAreNot() {
        TenantStartup startup = parse("search_path", "tenant_a", "geqo", "off", "replication", "database",
                "_pq_.some_extension", "1", "fallback_application_name", "psql",
                "options", "-c GEQO=on -c enable_seqscan=off --cursor-tuple-fraction=0.5");
        assertEquals(Map.of(), new TenantStartup(startup.user(), startup.database(), startup.schema(),
                startup.settings()).settings());
        assertEquals(Map.of(), startup.settings());
        assertEquals(List.of("geqo", "replication", "enable_seqscan", "cursor_tuple_fraction"), startup.dropped());
    }

    @Test
    void extraTrackedSettingsComeFromStartupParametersAndOptionsByDefault() {
        TenantStartup startup = parse("search_path", "tenant_a", "statement_timeout", "300",
                "options", "-c lock_timeout=1s --idle-in-transaction-session-timeout=10s -cWORK_MEM=64MB");
        assertEquals(Map.of("statement_timeout", "300", "lock_timeout", "1s",
                "idle_in_transaction_session_timeout", "10s", "work_mem", "64MB"), startup.settings());
        assertEquals(List.of(), startup.dropped());
    }

    @Test
    void extraTrackedSettingsAreConfigurable() {
        Map<String, String> parameters = baseParameters();
        parameters.put("search_path", "tenant_a");
        parameters.put("options", "-c statement_timeout=5s -c geqo=off -c myext.mode=fast");
        TenantStartup startup = TenantStartup.parse(parameters,
                new com.perseusproxy.core.backend.TrackedSettings(List.of("GEQO", "myext.mode")));
        assertEquals(Map.of("geqo", "off", "myext.mode", "fast"), startup.settings());
        assertEquals(List.of("statement_timeout"), startup.dropped());
    }

    @Test
    void schemaParametersUserAndDatabaseAreNotSettings() {
        TenantStartup startup = parse("schema_search_path", "a", "search_path", "b", "options", "-c search_path=c");
        assertEquals(Map.of(), startup.settings());
    }

    @Test
    void optionsWordsThatAreNotSettingsAreSkipped() {
        TenantStartup startup = parse("options", "-c search_path=tenant_a stray -x --flag -c TimeZone=UTC");
        assertEquals("tenant_a", startup.schema());
        assertEquals(Map.of("TimeZone", "UTC"), startup.settings());
    }

    @Test
    void parseOptionsSplitsOnUnescapedWhitespaceOnly() {
        List<String[]> settings = TenantStartup.parseOptions("-c a=1\t--b-c=x\\ y\n-cd=\\\\");
        assertEquals(3, settings.size());
        assertEquals(List.of("a", "1"), List.of(settings.get(0)));
        assertEquals(List.of("b_c", "x y"), List.of(settings.get(1)));
        assertEquals(List.of("d", "\\"), List.of(settings.get(2)));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** Parses user=alice, database=appdb and the given extra name/value pairs, in order. */
    private static TenantStartup parse(String... namesAndValues) {
        Map<String, String> parameters = baseParameters();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            parameters.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return TenantStartup.parse(parameters);
    }

    private static String schemaOf(String name, String value) {
        return parse(name, value).schema();
    }

    private static Map<String, String> withoutKey(String name) {
        Map<String, String> parameters = baseParameters();
        parameters.put("search_path", "tenant_a");
        parameters.remove(name);
        return parameters;
    }

    private static Map<String, String> baseParameters() {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("user", "alice");
        parameters.put("database", "appdb");
        return parameters;
    }
}
