package com.perseusproxy.server.it;

import com.perseusproxy.core.auth.PythonScrypt;
import com.perseusproxy.core.secrets.FakeKms;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static com.perseusproxy.server.it.KmsDropInTest.selectOne;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code perseus-tools tenant} writes rows the proxy serves, and rows written by other tools (Perseus's Go genhash,
 * or any easy-scrypt implementation) work too.
 */
class ProvisioningTest {

    @Test
    void tenantCommandInsertsThenUpdatesARowTheProxyServes() throws Exception {
        SampleTenant tenant = DropInProxy.tenant("prov_kms", "prov_user", "prov-pw-1");
        List<String> args = new ArrayList<>(List.of("tenant", "-source_db", DropInProxy.SOURCE_DB,
                "-schema", tenant.schema(), "-user", tenant.user(), "-dest_host", Fixtures.backend().destHost(),
                "-dest_db", TestPostgres.APP_DB, "-dest_user", TestPostgres.APP_OWNER.name()));
        List<String> withKms = new ArrayList<>(args);
        withKms.addAll(DropInProxy.kmsFlags());
        DropInProxy.ToolRun inserted = DropInProxy.tools(tenant.password() + "\n" + TestPostgres.APP_OWNER.password()
                + "\n", withKms);
        assertEquals(0, inserted.status(), inserted.err());
        assertTrue(inserted.out().startsWith("inserted perseus_auth row id "), inserted.out());
        assertTrue(inserted.out().contains("AWS KMS key " + FakeKms.KEY_ARN), inserted.out());
        assertNoSecrets(inserted, tenant.password());
        assertEquals(1, selectOne(DropInProxy.target(tenant)));

        // The same tenant again, now with a new password and a local key: the row is updated in place.
        List<String> withLocalKey = new ArrayList<>(args);
        withLocalKey.addAll(List.of("-key_file", Fixtures.localKeyFile().toString()));
        DropInProxy.ToolRun updated = DropInProxy.tools("prov-pw-2\n" + TestPostgres.APP_OWNER.password() + "\n",
                withLocalKey);
        assertEquals(0, updated.status(), updated.err());
        assertTrue(updated.out().startsWith("updated perseus_auth row id "), updated.out());
        assertEquals(inserted.out().split(" ")[4], updated.out().split(" ")[4], "same row id");
        assertNoSecrets(updated, "prov-pw-2");
        Object stored = Fixtures.postgres().queryValue(TestPostgres.AUTH_DB, "select dest_pass_enc from perseus_auth"
                + " where source_db = '" + DropInProxy.SOURCE_DB + "' and source_schema = 'prov_kms'");
        assertTrue(String.valueOf(stored).startsWith("local:v1:"), String.valueOf(stored));

        SQLException old = assertThrows(SQLException.class, () -> selectOne(DropInProxy.target(tenant)));
        assertEquals("28P01", old.getSQLState());
        assertEquals(1, selectOne(DropInProxy.target(tenant).withPassword("prov-pw-2")));
    }

    @Test
    void tenantCommandCanReuseAnExistingCiphertext() throws Exception {
        String shared = DropInProxy.encpassKms(TestPostgres.APP_OWNER.password());
        SampleTenant first = DropInProxy.tenant("prov_shared_1", "shared_user_1", "shared-pw-1");
        SampleTenant second = DropInProxy.tenant("prov_shared_2", "shared_user_2", "shared-pw-2");
        for (SampleTenant tenant : List.of(first, second)) {
            DropInProxy.ToolRun run = DropInProxy.tools(tenant.password() + "\n", "tenant",
                    "-source_db", DropInProxy.SOURCE_DB, "-schema", tenant.schema(), "-user", tenant.user(),
                    "-dest_host", Fixtures.backend().destHost(), "-dest_db", TestPostgres.APP_DB,
                    "-dest_user", TestPostgres.APP_OWNER.name(), "-dest_pass_enc", shared);
            assertEquals(0, run.status(), run.err());
        }
        int before = DropInProxy.kms().decryptCalls();
        assertEquals(1, selectOne(DropInProxy.target(first)));
        assertEquals(1, selectOne(DropInProxy.target(second)));
        assertEquals(1, DropInProxy.kms().decryptCalls() - before, "one ciphertext, one Decrypt");
    }

    @Test
    void tenantCommandExplainsProblemsWithoutSecrets() {
        DropInProxy.ToolRun noTable = DropInProxy.tools("pw\npw\n", "tenant", "-auth_dsn",
                DropInProxy.authDsn().replace("/" + TestPostgres.AUTH_DB + "?", "/postgres?"),
                "-source_db", "x", "-schema", "s", "-user", "u", "-dest_host", "h", "-dest_db", "d",
                "-dest_user", "du", "-key_file", Fixtures.localKeyFile().toString());
        assertEquals(1, noTable.status(), noTable.err());
        assertTrue(noTable.err().contains("perseus_auth does not exist"), noTable.err());
        assertFalse(noTable.err().contains(DropInProxy.DSN_PASSWORD), noTable.err());

        DropInProxy.ToolRun badHost = DropInProxy.tools("pw\npw\n", "tenant", "-source_db", "x", "-schema", "s",
                "-user", "u", "-dest_host", "h:99999", "-dest_db", "d", "-dest_user", "du", "-key_file", "/k");
        assertEquals(2, badHost.status());
        assertTrue(badHost.err().contains("-dest_host: dest_host 'h:99999' has an invalid port"), badHost.err());

        DropInProxy.ToolRun noPassword = DropInProxy.tools("", "tenant", "-source_db", "x", "-schema", "s",
                "-user", "u", "-dest_host", "h", "-dest_db", "d", "-dest_user", "du", "-key_file",
                Fixtures.localKeyFile().toString());
        assertEquals(2, noPassword.status());
        assertTrue(noPassword.err().contains("no tenant password for u@x/s given"), noPassword.err());
    }

    /** Hashes made by Python's hashlib.scrypt, with other N, r, p and key lengths than Perseus's, serve logins. */
    @Test
    void independentlyMadeHashesWithOtherCostsServeLogins() throws Exception {
        List<String[]> fixtures = pythonHashes();
        String ciphertext = DropInProxy.encpassKms(TestPostgres.APP_OWNER.password());
        int served = 0;
        for (String[] f : fixtures) { // password, N, r, p, keylen, hash
            if (f[0].isEmpty() || !f[0].matches("[a-z-]+")) {
                continue; // keeps to passwords every client sends unchanged
            }
            String schema = "py_" + f[1] + "_" + f[2] + "_" + f[3] + "_" + f[4];
            SampleTenant tenant = DropInProxy.tenant(schema, "py_user_" + f[4], f[0]);
            DropInProxy.upsert(tenant, Fixtures.backend(), f[5], ciphertext);
            assertEquals(1, selectOne(DropInProxy.target(tenant)), schema);
            served++;
        }
        assertTrue(served >= 3, "N/r/p/keylen variants served: " + served);
    }

    private static List<String[]> pythonHashes() throws Exception {
        Process python = PythonScrypt.start("generate");
        python.getOutputStream().close();
        String out = new String(python.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(python.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, python.exitValue());
        return out.lines().map(line -> line.split("\t", -1)).toList();
    }

    private static void assertNoSecrets(DropInProxy.ToolRun run, String tenantPassword) {
        for (String secret : List.of(tenantPassword, TestPostgres.APP_OWNER.password(), DropInProxy.DSN_PASSWORD,
                FakeKms.SECRET_ACCESS_KEY)) {
            assertFalse(run.out().contains(secret) || run.err().contains(secret), secret + " in " + run);
        }
    }
}
