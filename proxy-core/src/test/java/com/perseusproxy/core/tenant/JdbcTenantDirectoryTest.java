package com.perseusproxy.core.tenant;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JdbcTenantDirectoryTest {

    static AuthDatabase db;
    static long rowId;

    @BeforeAll
    static void start() throws Exception {
        db = AuthDatabase.start();
        rowId = db.insert("mattermost", "tenant_a", "mmuser", "HASH", "rds.example:6432", "mm_prod", "ENC", "rdsuser");
        db.insert("mattermost", "tenant_b", "other", "HASH-B", "rds.example", "mm_prod", "ENC-B", "rdsuser");
    }

    @AfterAll
    static void stop() throws Exception {
        db.close();
    }

    @Test
    void findsTheRowOfDatabaseAndSchema() throws Exception {
        TenantRecord record = new JdbcTenantDirectory(db.dataSource(), 2).find("mattermost", "tenant_a").orElseThrow();
        assertEquals(new TenantRecord(rowId, "mattermost", "tenant_a", "mmuser", "HASH", "rds.example:6432",
                "mm_prod", "ENC", "rdsuser"), record);
        assertFalse(record.toString().contains("HASH") || record.toString().contains("ENC"));
    }

    @Test
    void unknownTenantIsEmpty() throws Exception {
        JdbcTenantDirectory directory = new JdbcTenantDirectory(db.dataSource(), 2);
        assertEquals(Optional.empty(), directory.find("mattermost", "nobody"));
        assertEquals(Optional.empty(), directory.find("otherdb", "tenant_a"));
        assertEquals(Optional.empty(), directory.find("mattermost", "tenant_a' OR '1'='1"));
    }

    @Test
    void changesTakeEffectAtTheNextLookup() throws Exception {
        JdbcTenantDirectory directory = new JdbcTenantDirectory(db.dataSource(), 2);
        db.execute("UPDATE perseus_auth SET source_user = 'renamed' WHERE source_schema = 'tenant_b'");
        assertEquals("renamed", directory.find("mattermost", "tenant_b").orElseThrow().sourceUser());
    }

    @Test
    void slowQueryHitsTheTimeout() throws Exception {
        JdbcTenantDirectory directory = new JdbcTenantDirectory(db.slowDataSource(), 1);
        long start = System.nanoTime();
        TenantLookupException e = assertThrows(TenantLookupException.class,
                () -> directory.find("mattermost", "tenant_a"));
        assertTrue(System.nanoTime() - start < 4_000_000_000L, "timed out after about 1 s");
        assertTrue(e.getMessage().contains("57014"), e.getMessage());
        assertFalse(e.getMessage().contains(AuthDatabase.DSN_PASSWORD));
    }

    @Test
    void redactionMasksUrlPasswordsAndPasswordParameters() {
        assertEquals("connect to postgres://u:*****@h:5432/db failed",
                DsnRedaction.scrub("connect to postgres://u:s3cr3t@h:5432/db failed"));
        assertEquals("jdbc:postgresql://h/db?user=u&password=*****&ssl=true",
                DsnRedaction.scrub("jdbc:postgresql://h/db?user=u&password=s3cr3t&ssl=true"));
        assertEquals("no details given", DsnRedaction.scrub(null));
    }
}
