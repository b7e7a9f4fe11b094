package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.tools.PerseusTools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Issue 14 (4): {@code perseus-tools rotate} under a pgbench load of 8 clients (2 tenants through each of two proxy
 * replicas, production MaxLifetimeSecs 3600, so nothing but the rotation makes the pools log in again): row-first,
 * role-first and -switch_account in turn. Each run returns only once both replicas use the new credentials, which is
 * asserted from pg_stat_activity right after it returns; zero failed transactions; no password in the proxies' log
 * or the tool's output.
 */
class RotateCommandUnderLoadTest {

    static final String PREFIX = "rot_rt_";
    static final String ODD = "rot_rt_odd";
    static final String EVEN = "rot_rt_even";
    static final Pattern COMMITTED = Pattern.compile("PASSWORD \\([^)]*\\) committed at (\\S+)");

    @Test
    void rowFirstRoleFirstAndSwitchAccountThroughTwoReplicas() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's rotation is what is tested");
        PgTools.require("pgbench");
        String stamp = Long.toString(System.nanoTime(), 36);
        List<String> secrets = new ArrayList<>(List.of("rt-odd-1-" + stamp, "rt-even-1-" + stamp,
                "rt-stdin-" + stamp));
        RotationBed.createRole(ODD, secrets.get(0));
        RotationBed.createRole(EVEN, secrets.get(1));
        TestPostgres pg = Fixtures.postgres();
        // Spelt localhost (the fixture's rows say 127.0.0.1): rotate works on the rows of one dest_host/dest_db.
        String destHost = "localhost:" + pg.port();
        List<Target> tenants = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            PgbenchLoad.initSchema(PREFIX + "s" + t);
            String clientPassword = "rt-client-" + t + "-" + stamp;
            secrets.add(clientPassword);
            RotationBed.upsertRow(PREFIX + t, PREFIX + "s" + t, "rt_user_" + t, EasyScrypt.hash(clientPassword),
                    ODD, secrets.get(0));
            RotationBed.setDestHost(PREFIX + t, destHost);
            tenants.add(new Target("127.0.0.1", 0, PREFIX + t, "rt_user_" + t, clientPassword, PREFIX + "s" + t));
        }
        Path config = Files.createTempFile("perseus-rotate", ".json");
        config.toFile().deleteOnExit();
        Files.writeString(config, """
                { "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@%s:%d/%s?sslmode=disable" },
                  "LocalKeySettings": { "KeyFile": "%s" } }""".formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB,
                Fixtures.localKeyFile()));
        String adminDsn = "postgres://postgres@" + pg.host() + ":" + pg.port() + "/postgres?sslmode=disable";

        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        StringBuilder toolOutput = new StringBuilder();
        String metrics = "\"MetricsAddress\": \"127.0.0.1:0\",";
        try (PerseusService a = RotationBed.startProxy(3, 30, 3600, metrics);
             PerseusService b = RotationBed.startProxy(3, 30, 3600, metrics)) {
            List<Target> load = new ArrayList<>();
            for (PerseusService replica : List.of(a, b)) {
                for (Target t : tenants) {
                    load.add(new Target(t.host(), replica.port(), t.database(), t.user(), t.password(), t.schema()));
                }
            }
            PgbenchLoad pgbench = PgbenchLoad.start(load, 2, 80);
            CredentialRotationDrillTest.waitUntil(() -> RotationBed.poolOf(a, ODD) != null
                    && RotationBed.poolOf(b, ODD) != null, 30_000, "both replicas serve the load");
            RotationBed.sleep(3000);
            String replicas = "127.0.0.1:" + a.metricsPort() + ",127.0.0.1:" + b.metricsPort();
            List<String> common = List.of("rotate", "-config", config.toString(), "-dest_host", destHost,
                    "-dest_db", TestPostgres.APP_DB, "-admin_dsn", adminDsn, "-replicas", replicas, "-timeout", "60");

            // Other tests' rows may point at the same server spelt the same way: name the account.
            common = new ArrayList<>(common);
            common.addAll(List.of("-dest_user", ODD));

            // 1. row-first, generated password: every connection of ODD left started after ALTER ROLE.
            String err = rotate(common, List.of("-order", "row-first"), "", toolOutput);
            assertNoConnectionOlderThanTheAlterRole(err, ODD);
            String generated = Fixtures.cipher().decrypt(destPassEnc(PREFIX));
            secrets.add(generated);
            assertBothReplicasLogInWith(a, b, new BackendCredentials(ODD, generated));
            RotationBed.sleep(3000);

            // 2. role-first, password from standard input.
            String fromStdin = secrets.get(2);
            err = rotate(common, List.of("-order", "role-first", "-password_stdin"), fromStdin + "\n", toolOutput);
            assertNoConnectionOlderThanTheAlterRole(err, ODD);
            assertBothReplicasLogInWith(a, b, new BackendCredentials(ODD, fromStdin));
            RotationBed.sleep(3000);

            // 3. switch to the even account: no connection of ODD left the moment rotate returns.
            rotate(common, List.of("-switch_account"), "", toolOutput);
            long deadline = System.currentTimeMillis() + 5000; // process exit after the close, as above
            while (RotationBed.backendsOf(ODD) > 0 && System.currentTimeMillis() < deadline) {
                RotationBed.sleep(50);
            }
            assertEquals(0, RotationBed.backendsOf(ODD), "a connection of " + ODD + " is left");
            assertTrue(RotationBed.backendsOf(EVEN) > 0, "the load runs as " + EVEN);
            String even = Fixtures.cipher().decrypt(destPassEnc(PREFIX));
            secrets.add(even);
            assertBothReplicasLogInWith(a, b, new BackendCredentials(EVEN, even));
            assertFalse(pgbench.done(), "the rotations ran under load");

            long processed = pgbench.assertNoFailures();
            System.out.printf("rotate under load: %d pgbench transactions through 2 replicas, 0 failed%n", processed);
        } finally {
            root.detachAppender(captured);
            RotationBed.deleteRows(PREFIX);
        }
        for (String secret : secrets) {
            assertFalse(toolOutput.toString().contains(secret), "the tool printed a secret");
            for (ILoggingEvent event : captured.list) {
                String text = CredentialRotationDrillTest.render(event);
                assertFalse(text.contains(secret), "a log line contains a secret: " + text.replace(secret, "<HERE>"));
            }
        }
    }

    /** Runs the tool in-process; asserts it succeeded; returns its standard error (the step log). */
    private static String rotate(List<String> common, List<String> extra, String stdin, StringBuilder all) {
        List<String> args = new ArrayList<>(common);
        args.addAll(extra);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = PerseusTools.run(args.toArray(String[]::new),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
                Map.of());
        String text = out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
        all.append(text);
        System.out.print(text);
        assertEquals(0, status, text);
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Connections made before ALTER ROLE used the old password: none may be left when rotate returns. */
    private static void assertNoConnectionOlderThanTheAlterRole(String toolErr, String role) {
        Matcher m = COMMITTED.matcher(toolErr);
        assertTrue(m.find(), toolErr);
        // backend_start is when the server forked the backend, not when it checked the password: a login the proxy
        // began just before the commit (a credential probe; both replicas probe in step, as one NOTIFY woke them)
        // reads the role's new verifier if its SCRAM exchange runs after it, and is a new-password connection with a
        // backend_start before the commit. Such a login takes well under a second, so only connections forked more
        // than a second before the commit are certainly old-password ones; the pools' connections from the warm-up
        // (3 s and more before) are among them, so a proxy that kept its old connections still fails this.
        String sql = "SELECT count(*) FROM pg_stat_activity WHERE usename = '" + role + "' AND backend_type ="
                + " 'client backend' AND backend_start < '" + m.group(1) + "'::timestamptz - interval '1 second'";
        // The proxies have closed them when rotate returns; a closed backend leaves pg_stat_activity when its
        // process has exited, a few milliseconds after its socket closed (seconds on a loaded machine): allow for
        // that, not for more.
        long deadline = System.currentTimeMillis() + 5000;
        long older = Fixtures.postgres().queryLong("postgres", sql);
        while (older > 0 && System.currentTimeMillis() < deadline) {
            RotationBed.sleep(50);
            older = Fixtures.postgres().queryLong("postgres", sql);
        }
        assertEquals(0, older, "connections of " + role + " from before ALTER ROLE (" + m.group(1) + ")");
        assertTrue(RotationBed.backendsOf(role) > 0, "the load runs as " + role);
    }

    private static void assertBothReplicasLogInWith(PerseusService a, PerseusService b, BackendCredentials fresh) {
        for (PerseusService replica : List.of(a, b)) {
            BackendPool pool = RotationBed.poolOf(replica, fresh.user());
            assertTrue(pool != null && fresh.equals(pool.currentCredentials()), "replica on port " + replica.port()
                    + " logs in with " + (pool == null ? "nothing" : pool.currentCredentials()) + ", not " + fresh);
        }
    }

    private static String destPassEnc(String prefix) {
        return (String) Fixtures.postgres().queryValue(TestPostgres.AUTH_DB, "SELECT DISTINCT dest_pass_enc FROM"
                + " perseus_auth WHERE source_db LIKE '" + prefix + "%'");
    }
}
