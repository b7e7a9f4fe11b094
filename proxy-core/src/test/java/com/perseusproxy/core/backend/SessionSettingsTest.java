package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionSettingsTest {

    @Test
    void searchPathStatementQuotesTheSchemaAndPutsPgTempLast() {
        assertEquals("SET search_path TO \"tenant_a\", pg_temp", SessionSettings.searchPathStatement("tenant_a"));
    }

    @Test
    void searchPathStatementKeepsCase() {
        assertEquals("SET search_path TO \"Tenant_A\", pg_temp", SessionSettings.searchPathStatement("Tenant_A"));
    }

    @Test
    void searchPathStatementDoublesQuotesOfAHostileSchema() {
        assertEquals("SET search_path TO \"evil\"\"; drop table x; --\", pg_temp",
                SessionSettings.searchPathStatement("evil\"; drop table x; --"));
    }

    @Test
    void searchPathStatementRejectsNul() {
        assertThrows(IllegalArgumentException.class, () -> SessionSettings.searchPathStatement("a\0b"));
    }

    @Test
    void canonicalNameIsTheServersSpellingOfTrackedSettings() {
        assertEquals("DateStyle", SessionSettings.canonicalName("datestyle"));
        assertEquals("TimeZone", SessionSettings.canonicalName("TIMEZONE"));
        assertEquals("application_name", SessionSettings.canonicalName("Application_Name"));
        assertEquals("work_mem", SessionSettings.canonicalName("work_mem"), "untracked names are left alone");
    }

    @Test
    void statementsToApplySetOnlyWhatDiffersWithQuotedNamesAndLiterals() {
        Map<String, String> desired = new LinkedHashMap<>();
        desired.put("TimeZone", "UTC");
        desired.put("DateStyle", "ISO, MDY");
        desired.put("application_name", "o'brien\\app");
        Map<String, String> current = Map.of("TimeZone", "UTC", "DateStyle", "Postgres");
        assertEquals("SET \"DateStyle\" TO 'ISO, MDY';SET \"application_name\" TO E'o''brien\\\\app';",
                SessionSettings.statementsToApply(desired, current));
    }

    @Test
    void statementsToApplyIsEmptyWhenNothingDiffers() {
        assertEquals("", SessionSettings.statementsToApply(Map.of("TimeZone", "UTC"), Map.of("TimeZone", "UTC")));
        assertEquals("", SessionSettings.statementsToApply(Map.of(), Map.of("TimeZone", "UTC")));
    }

    @Test
    void anUnreportedSettingTheSessionNeverSetCountsAsTheServerDefault() {
        Map<String, String> desired = new LinkedHashMap<>();
        desired.put("work_mem", SessionSettings.SERVER_DEFAULT);
        desired.put("TimeZone", SessionSettings.SERVER_DEFAULT);
        desired.put("statement_timeout", "5s");
        // work_mem is unreported and absent: at its default, so nothing to send. TimeZone is reported, so an absent
        // value is unknown and must be reset; a desired value that is not the default is always sent.
        assertEquals("RESET \"TimeZone\";SET \"statement_timeout\" TO '5s';",
                SessionSettings.statementsToApply(desired, Map.of(), true));
        assertEquals("RESET \"work_mem\";RESET \"TimeZone\";SET \"statement_timeout\" TO '5s';",
                SessionSettings.statementsToApply(desired, Map.of()));
        assertEquals("RESET \"work_mem\";RESET \"TimeZone\";SET \"statement_timeout\" TO '5s';",
                SessionSettings.statementsToApply(desired, Map.of("work_mem", "64MB"), true),
                "a value the proxy set is held, not assumed");
    }

    @Test
    void tagsThatMakeTheSameTenantResendItsSearchPath() {
        assertTrue(SessionReset.mayChangeSearchPathOrSettings("SET"));
        assertTrue(SessionReset.mayChangeSearchPathOrSettings("RESET"));
        assertTrue(SessionReset.mayChangeSearchPathOrSettings("DISCARD ALL"));
        assertFalse(SessionReset.mayChangeSearchPathOrSettings("SELECT 1"));
        assertFalse(SessionReset.mayChangeSearchPathOrSettings("COMMIT"));
    }

    @Test
    void theResetKeepsProtocolLevelStatementsAndEndsWithTheSearchPath() {
        String sql = SessionReset.forTenant(SessionSettings.searchPathStatement("t"), "");
        assertFalse(sql.contains("DISCARD ALL"));
        assertFalse(sql.contains("DEALLOCATE ALL"));
        assertTrue(sql.contains("WHERE from_sql"));
        assertTrue(sql.endsWith("SET search_path TO \"t\", pg_temp"));
    }

    @Test
    void theClientsSettingsFollowTheSearchPathInTheResetsOwnQuery() {
        String sql = SessionReset.forTenant(SessionSettings.searchPathStatement("t"),
                "SET \"application_name\" TO 'app';");
        assertTrue(sql.endsWith("SET search_path TO \"t\", pg_temp;SET \"application_name\" TO 'app';"), sql);
    }
}
