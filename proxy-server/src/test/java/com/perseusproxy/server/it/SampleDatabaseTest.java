package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The sample installer: the Perseus table shape, and that installing again changes nothing but the secrets. */
class SampleDatabaseTest {

    @Test
    void perseusAuthHasExactlyPerseusColumns() {
        Object columns = Fixtures.postgres().queryValue(TestPostgres.AUTH_DB,
                "select string_agg(column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')',"
                        + " ''), ', ' order by ordinal_position) from information_schema.columns"
                        + " where table_name = 'perseus_auth'");
        assertEquals("id integer, source_db character varying(1024), source_schema character varying(64),"
                + " source_user character varying(64), source_pass_hashed character varying(1024),"
                + " dest_host character varying(64), dest_db character varying(1024),"
                + " dest_pass_enc character varying(1024), dest_user character varying(64)", columns);
    }

    @Test
    void fixtureRowsHoldVerifiableHashesAndDecryptableBackendPasswords() throws Exception {
        TestPostgres pg = Fixtures.postgres();
        for (SampleTenant tenant : Fixtures.ALL) {
            String where = " from perseus_auth where source_db = '" + tenant.sourceDb() + "' and source_schema = '"
                    + tenant.schema().replace("'", "''") + "'";
            String hash = (String) pg.queryValue(TestPostgres.AUTH_DB, "select source_pass_hashed" + where);
            String enc = (String) pg.queryValue(TestPostgres.AUTH_DB, "select dest_pass_enc" + where);
            assertTrue(EasyScrypt.verify(tenant.password(), hash), tenant + ": hash verifies");
            assertFalse(EasyScrypt.verify("not-" + tenant.password(), hash), tenant + ": wrong password fails");
            assertEquals(TestPostgres.APP_OWNER.password(), Fixtures.cipher().decrypt(enc), tenant + ": decrypts");
        }
    }

    @Test
    void installingTwiceIsHarmlessAndUpdatesSecrets() throws SQLException {
        TestPostgres pg = Fixtures.postgres();
        long notesBefore = pg.queryLong(TestPostgres.APP_DB, "select count(*) from tenant_b.notes");
        try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB);
             Connection app = pg.superuserConnection(TestPostgres.APP_DB)) {
            SampleDatabase.install(auth, app, Fixtures.backend(), Fixtures.ALL, p -> "rehashed", p -> "reencrypted");
            assertEquals(Fixtures.ALL.size(), pg.queryLong(TestPostgres.AUTH_DB, "select count(*) from perseus_auth"
                    + " where source_pass_hashed = 'rehashed' and dest_pass_enc = 'reencrypted'"));
            assertEquals(notesBefore, pg.queryLong(TestPostgres.APP_DB, "select count(*) from tenant_b.notes"));
        } finally {
            // Put the fixture's values back for the tests that follow.
            try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB);
                 Connection app = pg.superuserConnection(TestPostgres.APP_DB)) {
                SampleDatabase.install(auth, app, Fixtures.backend(), Fixtures.ALL, Fixtures::hashPassword,
                        Fixtures::encryptBackendPassword);
            }
        }
        // Other tests add rows of their own under other source databases; the fixture's are all in appdb.
        assertEquals(Fixtures.ALL.size(), pg.queryLong(TestPostgres.AUTH_DB, "select count(*) from perseus_auth"
                + " where source_db = '" + TestPostgres.APP_DB + "'"));
        Object row = pg.queryValue(TestPostgres.AUTH_DB, "select concat_ws(' ', source_db, source_user, dest_host,"
                + " dest_db, dest_user) from perseus_auth where source_schema = 'tenant_b'");
        assertEquals(String.join(" ", List.of(TestPostgres.APP_DB, "bob", Fixtures.backend().destHost(),
                TestPostgres.APP_DB, TestPostgres.APP_OWNER.name())), row);
    }
}
