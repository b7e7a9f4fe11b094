package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code perseus-tools tenant -scram} writes a row whose clients log in through the proxy with SCRAM (psql), and
 * {@code -add} rotates a tenant's password: the new verifier reuses the salt of the row's first, so the old and the
 * new password both log in until the row is written again without {@code -add}.
 */
class TenantScramToolTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @Test
    void scramRowWrittenByTheToolServesPsqlAndRotatesWithAdd() {
        SampleTenant tenant = DropInProxy.tenant("prov_scram", "scram_user", "scram-pw-1");
        String ciphertext = DropInProxy.encpassKms(TestPostgres.APP_OWNER.password());
        List<String> args = List.of("tenant", "-source_db", DropInProxy.SOURCE_DB, "-schema", tenant.schema(),
                "-user", tenant.user(), "-dest_host", Fixtures.backend().destHost(), "-dest_db", TestPostgres.APP_DB,
                "-dest_user", TestPostgres.APP_OWNER.name(), "-dest_pass_enc", ciphertext, "-scram");

        DropInProxy.ToolRun written = DropInProxy.tools("scram-pw-1\n", args);
        assertEquals(0, written.status(), written.err());
        String[] first = storedHashes(tenant);
        assertEquals(1, first.length);
        assertTrue(first[0].startsWith("SCRAM-SHA-256$4096:"), "a verifier, not the password");
        assertLogsInWithScram(tenant, "scram-pw-1");

        // -add: the rotation's first step. Both passwords work; the new verifier shares the first one's salt.
        List<String> add = new ArrayList<>(args);
        add.add("-add");
        DropInProxy.ToolRun added = DropInProxy.tools("scram-pw-2\n", add);
        assertEquals(0, added.status(), added.err());
        assertTrue(added.out().contains("previous passwords still work"), added.out());
        String[] both = storedHashes(tenant);
        assertEquals(2, both.length, Arrays.toString(both));
        assertEquals(first[0], both[0], "the old verifier is kept as it was");
        assertEquals(saltPart(both[0]), saltPart(both[1]), "the new verifier reuses the salt and iterations");
        assertLogsInWithScram(tenant, "scram-pw-1");
        assertLogsInWithScram(tenant, "scram-pw-2");
        for (String secret : List.of("scram-pw-1", "scram-pw-2", both[0], both[1])) {
            assertFalse(added.out().contains(secret) || added.err().contains(secret), "a secret in the output");
        }

        // An easy-scrypt hash next to a verifier would never be checked (its clients are asked with SCRAM).
        List<String> addScrypt = new ArrayList<>(args.subList(0, args.size() - 1));
        addScrypt.add("-add");
        DropInProxy.ToolRun scryptNextToVerifier = DropInProxy.tools("scram-pw-3\n", addScrypt);
        assertEquals(1, scryptNextToVerifier.status(), scryptNextToVerifier.out());
        assertTrue(scryptNextToVerifier.err().contains("add -scram"), scryptNextToVerifier.err());
        assertEquals(2, storedHashes(tenant).length, "the row is unchanged");

        // The last step: written again without -add, only the new password is left.
        DropInProxy.ToolRun replaced = DropInProxy.tools("scram-pw-2\n", args);
        assertEquals(0, replaced.status(), replaced.err());
        assertEquals(1, storedHashes(tenant).length);
        assertLogsInWithScram(tenant, "scram-pw-2");
        Target old = DropInProxy.target(tenant).withPassword("scram-pw-1");
        PgTools.Result oldPassword = PgTools.run(PgTools.psql(old, "-c", "select 1"), old, TIMEOUT);
        assertFalse(oldPassword.ok(), oldPassword.describe());
        assertTrue(oldPassword.stderr().contains("password authentication failed"), oldPassword.describe());
    }

    @Test
    void anEasyScryptRowMovesToScramWithItsCurrentPasswordFirst() {
        SampleTenant tenant = DropInProxy.tenant("prov_scram_move", "move_user", "move-pw-1");
        List<String> args = new ArrayList<>(List.of("tenant", "-source_db", DropInProxy.SOURCE_DB, "-schema",
                tenant.schema(), "-user", tenant.user(), "-dest_host", Fixtures.backend().destHost(), "-dest_db",
                TestPostgres.APP_DB, "-dest_user", TestPostgres.APP_OWNER.name(), "-dest_pass_enc",
                DropInProxy.encpassKms(TestPostgres.APP_OWNER.password())));
        assertEquals(0, DropInProxy.tools("move-pw-1\n", args).status());
        args.addAll(List.of("-scram", "-add"));
        // A verifier of another password would leave the current clients (easy-scrypt) unable to log in.
        DropInProxy.ToolRun other = DropInProxy.tools("move-pw-2\n", args);
        assertEquals(1, other.status(), other.out());
        assertTrue(other.err().contains("current password"), other.err());
        assertEquals(1, storedHashes(tenant).length, "the row is unchanged");
        DropInProxy.ToolRun same = DropInProxy.tools("move-pw-1\n", args);
        assertEquals(0, same.status(), same.err());
        assertEquals(2, storedHashes(tenant).length);
        assertLogsInWithScram(tenant, "move-pw-1");
    }

    private static void assertLogsInWithScram(SampleTenant tenant, String password) {
        Target t = DropInProxy.target(tenant).withPassword(password);
        PgTools.Result psql = PgTools.run(PgTools.psql(t, "-c", "select current_schema()"), t, TIMEOUT);
        assertTrue(psql.ok(), psql.describe());
        assertEquals(tenant.schema(), psql.stdout().strip());
        try (PgWire wire = PgWire.open(t)) {
            assertEquals(List.of(10, 11, 12, 0), wire.login(t).authRequests(), "SASL, continue, final, ok");
        }
    }

    private static String[] storedHashes(SampleTenant tenant) {
        Object stored = Fixtures.postgres().queryValue(TestPostgres.AUTH_DB, "select source_pass_hashed from"
                + " perseus_auth where source_db = '" + DropInProxy.SOURCE_DB + "' and source_schema = '"
                + tenant.schema() + "'");
        return String.valueOf(stored).split(",");
    }

    /** {@code <iterations>:<salt>} of a verifier. */
    private static String saltPart(String verifier) {
        return verifier.split("\\$")[1];
    }
}
