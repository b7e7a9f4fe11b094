package com.perseusproxy.server.it;

import com.perseusproxy.core.secrets.FakeKms;
import com.perseusproxy.server.demo.SampleDatabase.Backend;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Perseus deployment's KMS ciphertexts, made by {@code perseus-tools encpass} with Perseus's flags, are decrypted
 * by the proxy through the real AWS SDK ({@link DropInProxy}, {@link FakeKms}): once per ciphertext, and without KMS
 * for what was already decrypted.
 */
class KmsDropInTest {

    @Test
    void encpassOutputInARowServesTheTenant() throws Exception {
        SampleTenant tenant = DropInProxy.tenant("kms_first", "kms_first_user", "kms-first-pw");
        String ciphertext = DropInProxy.encpassKms(TestPostgres.APP_OWNER.password());
        assertFalse(ciphertext.startsWith("local:"), ciphertext);
        DropInProxy.upsert(tenant, Fixtures.backend(), DropInProxy.genhash(tenant.password()), ciphertext);

        try (Connection c = DropInProxy.target(tenant).connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select current_user, string_agg(body, '|') from notes")) {
            rs.next();
            assertEquals(TestPostgres.APP_OWNER.name(), rs.getString(1));
            for (String body : rs.getString(2).split("\\|")) {
                assertTrue(body.startsWith("kms_first:"), body);
            }
        }
    }

    @Test
    void aHundredLoginsCauseOneDecrypt() throws Exception {
        SampleTenant tenant = DropInProxy.tenant("kms_hundred", "kms_hundred_user", "kms-hundred-pw");
        DropInProxy.upsert(tenant, Fixtures.backend(), DropInProxy.genhash(tenant.password()),
                DropInProxy.encpassKms(TestPostgres.APP_OWNER.password()));
        FakeKms kms = DropInProxy.kms();
        int before = kms.decryptCalls();

        ExecutorService clients = Executors.newFixedThreadPool(8);
        try {
            List<Future<Integer>> logins = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                logins.add(clients.submit(() -> selectOne(DropInProxy.target(tenant))));
            }
            for (Future<Integer> login : logins) {
                assertEquals(1, login.get(120, TimeUnit.SECONDS));
            }
        } finally {
            clients.shutdownNow();
        }
        assertEquals(1, kms.decryptCalls() - before, "KMS Decrypt calls for 100 logins of one tenant");
    }

    @Test
    void withKmsDownKnownTenantsKeepWorkingAndANewDestinationGetsAClearErrorUntilKmsIsBack() throws Exception {
        SampleTenant known = DropInProxy.tenant("kms_known", "kms_known_user", "kms-known-pw");
        DropInProxy.upsert(known, Fixtures.backend(), DropInProxy.genhash(known.password()),
                DropInProxy.encpassKms(TestPostgres.APP_OWNER.password()));
        assertEquals(1, selectOne(DropInProxy.target(known)));

        // A destination no pool serves yet (the same server named "localhost"), with a ciphertext never decrypted.
        SampleTenant fresh = DropInProxy.tenant("kms_fresh", "kms_fresh_user", "kms-fresh-pw");
        Backend localhost = new Backend("localhost", Fixtures.postgres().port(), TestPostgres.APP_DB,
                TestPostgres.APP_OWNER.name(), TestPostgres.APP_OWNER.password());
        DropInProxy.upsert(fresh, localhost, DropInProxy.genhash(fresh.password()),
                DropInProxy.encpassKms(TestPostgres.APP_OWNER.password()));

        FakeKms kms = DropInProxy.kms();
        CapturedLogs logs = new CapturedLogs();
        kms.stop();
        try {
            for (int i = 0; i < 3; i++) {
                assertEquals(1, selectOne(DropInProxy.target(known)), "a tenant already decrypted, login " + i);
            }
            SQLException e = assertThrows(SQLException.class, () -> selectOne(DropInProxy.target(fresh)));
            assertEquals("08004", e.getSQLState(), e.getMessage());
            assertTrue(e.getMessage().contains("localhost:" + Fixtures.postgres().port() + "/" + TestPostgres.APP_DB),
                    "names the destination: " + e.getMessage());
            assertTrue(e.getMessage().contains("cannot reach AWS KMS at endpoint " + kms.endpoint()), e.getMessage());
            for (String secret : List.of(TestPostgres.APP_OWNER.password(), FakeKms.SECRET_ACCESS_KEY,
                    fresh.password())) {
                assertFalse(e.getMessage().contains(secret), e.getMessage());
            }
        } finally {
            kms.start();
        }
        // Retried after a backoff of about a second: the first login after that succeeds.
        try (logs) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (true) {
                try {
                    assertEquals(1, selectOne(DropInProxy.target(fresh)));
                    break;
                } catch (SQLException notYet) {
                    assertTrue(System.nanoTime() < deadline, "still failing after KMS came back: "
                            + notYet.getMessage());
                    assertTrue(notYet.getMessage().contains("not retried for another"), notYet.getMessage());
                    Thread.sleep(300);
                }
            }
            assertTrue(logs.size() > 0);
            // The AWS SDK logs requests and responses at DEBUG: neither the signing secret nor a plaintext shows.
            logs.assertNoneContains(List.of(TestPostgres.APP_OWNER.password(), FakeKms.SECRET_ACCESS_KEY,
                    known.password(), fresh.password(), DropInProxy.DSN_PASSWORD));
        }
    }

    @Test
    void aMixedTableServesEveryTenant() throws Exception {
        SampleTenant kmsTenant = DropInProxy.tenant("kms_mixed", "kms_mixed_user", "kms-mixed-pw");
        DropInProxy.upsert(kmsTenant, Fixtures.backend(), DropInProxy.genhash(kmsTenant.password()),
                DropInProxy.encpassKms(TestPostgres.APP_OWNER.password()));
        SampleTenant localTenant = DropInProxy.tenant("local_mixed", "local_mixed_user", "local-mixed-pw");
        DropInProxy.upsert(localTenant, Fixtures.backend(), DropInProxy.genhash(localTenant.password()),
                DropInProxy.tools("", "encpass", "-key_file", Fixtures.localKeyFile().toString(), "-passwd",
                        TestPostgres.APP_OWNER.password()).output());

        List<Target> everyone = new ArrayList<>();
        for (SampleTenant fixture : Fixtures.ALL) { // the fixture's rows: local-key ciphertexts
            everyone.add(Targets.viaProxy(fixture, "127.0.0.1", DropInProxy.port()));
        }
        everyone.add(DropInProxy.target(kmsTenant));
        everyone.add(DropInProxy.target(localTenant));
        for (Target target : everyone) {
            try (Connection c = target.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("select body from notes order by id limit 1")) {
                assertTrue(rs.next(), target.toString());
                assertTrue(rs.getString(1).startsWith(target.schema() + ":"), target + ": " + rs.getString(1));
            }
        }
    }

    static int selectOne(Target target) throws SQLException {
        try (Connection c = target.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
