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
import com.perseusproxy.server.credentials.FakeSecretsManager;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Issue 14 (2): a backend whose credentials come from AWS Secrets Manager (the real AWS SDK against
 * {@link FakeSecretsManager}), under a pgbench load of 8 clients over 2 tenants, goes through the two rotations AWS's
 * own rotation functions perform: single-user (createSecret AWSPENDING, setSecret = ALTER ROLE, finishSecret moves
 * AWSCURRENT) and alternating users (the secret's username changes to the other role). Zero failed transactions; once
 * idle, no backend connection of the old user is left; no secret in the log or on /metrics, which shows the source and
 * the fingerprint instead.
 */
class SecretsManagerRotationTest {

    static final String PREFIX = "rot_sm_";
    static final String ODD = "rot_sm_odd";
    static final String EVEN = "rot_sm_even";
    static final String SECRET = "rot/sm/db";
    static final int TENANTS = 2;

    @Test
    void passwordAndAlternatingUsersRotationsUnderPgbench() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's rotation is what is tested");
        PgTools.require("pgbench");
        String stamp = Long.toString(System.nanoTime(), 36);
        String odd1 = "sm-odd-1-" + stamp;
        String odd2 = "sm-odd-2-" + stamp;
        String even1 = "sm-even-1-" + stamp;
        String even2 = "sm-even-2-" + stamp;
        List<String> secrets = new ArrayList<>(List.of(odd1, odd2, even1, even2));
        RotationBed.createRole(ODD, odd1);
        RotationBed.createRole(EVEN, even1);
        TestPostgres pg = Fixtures.postgres();
        String backend = "localhost:" + pg.port();
        List<Target> tenants = new ArrayList<>();
        for (int t = 0; t < TENANTS; t++) {
            PgbenchLoad.initSchema(PREFIX + "s" + t);
            String clientPassword = "sm-client-" + t + "-" + stamp;
            secrets.add(clientPassword);
            RotationBed.upsertRow(PREFIX + t, PREFIX + "s" + t, "sm_user_" + t, EasyScrypt.hash(clientPassword),
                    "ignored", "unused");
            tenants.add(new Target("127.0.0.1", 0, PREFIX + t, "sm_user_" + t, clientPassword, PREFIX + "s" + t));
        }
        RotationBed.setDestHost(PREFIX, backend);
        pg.execute(TestPostgres.AUTH_DB, "UPDATE perseus_auth SET dest_pass_enc = '' WHERE source_db LIKE '"
                + PREFIX + "%'");

        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        try (FakeSecretsManager aws = new FakeSecretsManager()) {
            aws.put(SECRET, "AWSCURRENT", ODD, odd1);
            String config = aws.awsSettingsJson() + """
                    "MetricsAddress": "127.0.0.1:0",
                    "CredentialSources": { "%s/%s": { "Kind": "secrets-manager", "SecretId": "%s",
                                                      "RefreshSecs": 2 } },""".formatted(backend,
                    TestPostgres.APP_DB, SECRET);
            try (PerseusService proxy = RotationBed.startProxy(4, 30, config)) {
                List<Target> viaProxy = tenants.stream().map(t -> new Target(t.host(), proxy.port(), t.database(),
                        t.user(), t.password(), t.schema())).toList();
                PgbenchLoad load = PgbenchLoad.start(viaProxy, 4, 40);
                CredentialRotationDrillTest.waitUntil(() -> RotationBed.backendsOf(ODD) > 0, 30_000,
                        "the load runs as " + ODD);
                RotationBed.sleep(4000);

                // Single-user rotation, in the order AWS's rotation function runs its steps.
                aws.put(SECRET, "AWSPENDING", ODD, odd2);        // createSecret
                RotationBed.alterPassword(ODD, odd2);            // setSecret
                RotationBed.sleep(1000);                         // testSecret
                aws.put(SECRET, "AWSCURRENT", ODD, odd2);        // finishSecret
                BackendCredentials oddNew = new BackendCredentials(ODD, odd2);
                CredentialRotationDrillTest.waitUntil(() -> {
                    BackendPool pool = RotationBed.poolOf(proxy, ODD);
                    return pool != null && oddNew.equals(pool.currentCredentials());
                }, 20_000, "the pool logs in with the rotated password");
                RotationBed.sleep(4000);
                synchronized (captured.list) {
                    assertTrue(captured.list.stream().anyMatch(e -> e.getFormattedMessage().contains("also trying")),
                            "after the refused login the pool tried AWSPENDING");
                    assertEquals(List.of(), captured.list.stream().map(ILoggingEvent::getFormattedMessage)
                            .filter(m -> m.contains("pool " + ODD) && m.contains("login failed")).toList(),
                            "AWSPENDING logged in between setSecret and finishSecret: no login failed");
                }

                // Alternating users: the other role gets a new password, then the secret names it.
                aws.put(SECRET, "AWSPENDING", EVEN, even2);
                RotationBed.alterPassword(EVEN, even2);
                aws.put(SECRET, "AWSCURRENT", EVEN, even2);
                CredentialRotationDrillTest.waitUntil(() -> RotationBed.backendsOf(EVEN) > 0, 20_000,
                        "transactions run as " + EVEN);
                CredentialRotationDrillTest.waitUntil(() -> RotationBed.backendsOf(ODD) == 0, 20_000,
                        "connections of " + ODD + " retired");
                assertFalse(load.done(), "the rotations happened under load");

                long processed = load.assertNoFailures();
                assertTrue(processed > 100, "transactions: " + processed);
                assertEquals(0, RotationBed.backendsOf(ODD), "a connection of the old user is left");
                String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                        "http://127.0.0.1:" + proxy.metricsPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString()).body();
                String fingerprint = new BackendCredentials(EVEN, even2).fingerprint();
                // The Prometheus client writes labels sorted by name: ..., fingerprint, source.
                assertTrue(metrics.contains("fingerprint=\"" + fingerprint + "\",source=\"secrets-manager\"} 1"),
                        metrics);
                for (String secret : secrets) {
                    assertFalse(metrics.contains(secret), "/metrics holds a secret");
                }
                System.out.printf("secrets-manager rotation: %d pgbench transactions, 0 failed, %d GetSecretValue"
                        + " calls%n", processed, aws.getCalls());
                assertEquals(0, aws.unsignedCalls());
            }
        } finally {
            root.detachAppender(captured);
            RotationBed.deleteRows(PREFIX);
        }
        for (ILoggingEvent event : captured.list) {
            String text = CredentialRotationDrillTest.render(event);
            for (String secret : secrets) {
                assertFalse(text.contains(secret), "a log line contains a secret: " + text.replace(secret, "<HERE>"));
            }
        }
    }
}
