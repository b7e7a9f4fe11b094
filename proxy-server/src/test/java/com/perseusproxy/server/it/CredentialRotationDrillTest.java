package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.perseusproxy.server.PerseusService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The rotation drill of issue 4: 8 clients over 4 tenants run transactions without pause for more than 30 s against a
 * proxy whose MaxLifetimeSecs is 1 (so backend logins happen all the time), while the test changes, in turn:
 * <ol>
 *   <li>1(a) the backend password with ALTER ROLE first, perseus_auth later;</li>
 *   <li>1(b) perseus_auth first, ALTER ROLE later;</li>
 *   <li>2 the backend account (odd to even, two roles with equal privileges);</li>
 *   <li>4 every tenant's client password (add the new hash, move the clients, drop the old hash);</li>
 *   <li>5 credentials from a command ({@code cat} of a file the test rewrites, as a Vault wrapper would print):
 *   the tenants move to the command's account, then to the next account it issues before the first expires.</li>
 * </ol>
 * Not one client transaction may fail; afterwards no backend connection of the old account remains, and no password
 * appears in the proxy's log.
 */
class CredentialRotationDrillTest {

    static final String PREFIX = "rot_drill_";
    static final String ODD = "rot_drill_odd";
    static final String EVEN = "rot_drill_even";
    static final String CMD_A = "rot_drill_cmd_a";
    static final String CMD_B = "rot_drill_cmd_b";
    static final int TENANTS = 4;
    static final int CLIENTS = 8;

    final AtomicReferenceArray<String> clientPasswords = new AtomicReferenceArray<>(TENANTS);
    final AtomicLong transactions = new AtomicLong();
    final List<String> failures = new ArrayList<>();
    final Map<String, AtomicLong> servedBy = new ConcurrentHashMap<>();
    final AtomicBoolean running = new AtomicBoolean(true);

    @Test
    void zeroFailedTransactionsThroughEveryKindOfRotation() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's rotation is what is tested");
        String stamp = Long.toString(System.nanoTime(), 36);
        List<String> secrets = new ArrayList<>();
        String oddV1 = "odd-v1-" + stamp;
        String oddV2 = "odd-v2-" + stamp;
        String oddV3 = "odd-v3-" + stamp;
        String evenV1 = "even-v1-" + stamp;
        String cmdA = "cmd-a-" + stamp;
        String cmdB = "cmd-b-" + stamp;
        secrets.addAll(List.of(oddV1, oddV2, oddV3, evenV1, cmdA, cmdB));
        RotationBed.createRole(ODD, oddV1);
        RotationBed.createRole(EVEN, evenV1);
        RotationBed.createRole(CMD_A, cmdA);
        RotationBed.createRole(CMD_B, cmdB);
        Path credentialsFile = Files.createTempFile("perseus-drill-creds", ".json");
        credentialsFile.toFile().deleteOnExit();
        // A backend name no row uses until phase 5: the command applies from then on.
        String commandBackend = "localhost:" + Fixtures.postgres().port();
        String commands = """
                "CredentialCommands": { "%s/%s": { "Command": ["cat", "%s"], "TimeoutSecs": 5 } },"""
                .formatted(commandBackend, TestPostgres.APP_DB, credentialsFile);
        for (int t = 0; t < TENANTS; t++) {
            String password = "client-old-" + t + "-" + stamp;
            clientPasswords.set(t, password);
            secrets.add(password);
            RotationBed.upsertRow(db(t), schema(t), user(t), com.perseusproxy.core.auth.EasyScrypt.hash(password),
                    ODD, oddV1);
        }
        RotationBed.installNotifyTrigger();

        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        long started = System.nanoTime();
        try (PerseusService proxy = RotationBed.startProxy(4, 2, commands)) {
            List<Future<?>> load = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                int tenant = i % TENANTS;
                load.add(clients.submit(() -> runClient(proxy.port(), tenant)));
            }
            // Logins cost a scrypt run each: on a busy machine the clients need a moment to get going.
            waitUntil(() -> transactions.get() > 50, 30_000, "the load runs");
            RotationBed.sleep(2000);

            // 1(a): ALTER ROLE first; the pool keeps serving on its open connections until the row follows.
            RotationBed.alterPassword(ODD, oddV2);
            RotationBed.sleep(4000);
            RotationBed.setBackend(PREFIX, ODD, oddV2);
            RotationBed.sleep(4000);

            // 1(b): the row first; the old password keeps working until ALTER ROLE, then the new one is used.
            RotationBed.setBackend(PREFIX, ODD, oddV3);
            RotationBed.sleep(4000);
            RotationBed.alterPassword(ODD, oddV3);
            RotationBed.sleep(4000);

            // 2: switch every tenant to the other account.
            RotationBed.setBackend(PREFIX, EVEN, evenV1);
            waitUntil(() -> RotationBed.backendsOf(ODD) == 0, 15_000, "connections of " + ODD + " retired");
            long evenBefore = servedBy.getOrDefault(EVEN, new AtomicLong()).get();
            RotationBed.sleep(2000);
            assertTrue(servedBy.getOrDefault(EVEN, new AtomicLong()).get() > evenBefore, "new transactions run as "
                    + EVEN + ": " + servedBy);

            // 4: client passwords: add the new hash, move the clients, drop the old hash.
            List<String> oldClientPasswords = new ArrayList<>();
            for (int t = 0; t < TENANTS; t++) {
                String old = clientPasswords.get(t);
                String next = "client-new-" + t + "-" + stamp;
                secrets.add(next);
                oldClientPasswords.add(old);
                RotationBed.setClientHashes(db(t), schema(t), old, next);
                clientPasswords.set(t, next);
            }
            RotationBed.sleep(4000);
            for (int t = 0; t < TENANTS; t++) {
                RotationBed.setClientHashes(db(t), schema(t), clientPasswords.get(t));
            }
            RotationBed.sleep(3000);
            int tenant0 = 0;
            SQLException refused = assertThrows(SQLException.class, () -> target(proxy.port(), tenant0,
                    oldClientPasswords.get(tenant0)).connect().close());
            assertEquals("28P01", refused.getSQLState());

            // 5: credentials from a command. Short-lived: the proxy re-runs it before they expire.
            Files.writeString(credentialsFile, "{\"user\": \"%s\", \"password\": \"%s\", \"expires_at\": \"%s\"}"
                    .formatted(CMD_A, cmdA, Instant.now().plusSeconds(6)));
            RotationBed.setDestHost(PREFIX, commandBackend);
            waitUntil(() -> servedBy.containsKey(CMD_A), 15_000, "transactions run as " + CMD_A);
            Files.writeString(credentialsFile, "{\"user\": \"%s\", \"password\": \"%s\", \"expires_at\": \"%s\"}"
                    .formatted(CMD_B, cmdB, Instant.now().plusSeconds(3600)));
            waitUntil(() -> servedBy.containsKey(CMD_B), 20_000, "transactions run as " + CMD_B);
            waitUntil(() -> RotationBed.backendsOf(CMD_A) == 0 && RotationBed.backendsOf(EVEN) == 0, 15_000,
                    "connections of " + CMD_A + " and " + EVEN + " retired");
            RotationBed.sleep(2000);

            running.set(false);
            for (Future<?> f : load) {
                f.get(60, TimeUnit.SECONDS);
            }
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
            assertTrue(seconds >= 30, "the drill ran " + seconds + " s");
            synchronized (failures) {
                assertEquals(List.of(), failures, "failed client transactions");
            }
            assertTrue(transactions.get() > 500, "transactions: " + transactions.get());
            for (String retired : List.of(ODD, EVEN, CMD_A)) {
                assertEquals(0, RotationBed.backendsOf(retired), "a connection of retired account " + retired);
            }
            System.out.printf("rotation drill: %d transactions by %d clients in %d s, served by %s, 0 failed%n",
                    transactions.get(), CLIENTS, seconds, servedBy);
        } finally {
            running.set(false);
            clients.shutdownNow();
            root.detachAppender(captured);
            RotationBed.deleteRows(PREFIX);
            RotationBed.dropNotifyTrigger();
        }
        for (ILoggingEvent event : captured.list) {
            String text = render(event);
            for (String secret : secrets) {
                assertFalse(text.contains(secret), "a log line contains a secret: " + text.replace(secret, "<HERE>"));
            }
        }
    }

    private void runClient(int port, int tenant) {
        while (running.get()) {
            try (Connection c = target(port, tenant, clientPasswords.get(tenant)).connect()) {
                c.setAutoCommit(false);
                for (int i = 0; i < 15 && running.get(); i++) {
                    try (Statement st = c.createStatement();
                         ResultSet rs = st.executeQuery("select current_user, count(*) from notes where body like '"
                                 + schema(tenant) + ":%'")) {
                        rs.next();
                        if (rs.getLong(2) == 0) {
                            throw new SQLException("tenant " + tenant + " sees no rows of its own");
                        }
                        servedBy.computeIfAbsent(rs.getString(1), k -> new AtomicLong()).incrementAndGet();
                    }
                    try (Statement st = c.createStatement()) {
                        st.execute("select 1");
                    }
                    c.commit();
                    transactions.incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (SQLException e) {
                synchronized (failures) {
                    failures.add("tenant " + tenant + ": " + e.getSQLState() + " " + e.getMessage());
                }
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static Target target(int port, int tenant, String password) {
        return new Target("127.0.0.1", port, db(tenant), user(tenant), password, schema(tenant));
    }

    static String db(int tenant) {
        return PREFIX + tenant;
    }

    static String schema(int tenant) {
        return tenant % 2 == 0 ? Fixtures.TENANT_A.schema() : Fixtures.TENANT_B.schema();
    }

    static String user(int tenant) {
        return "drill_user_" + tenant;
    }

    static void waitUntil(java.util.function.BooleanSupplier condition, long millis, String what) {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            RotationBed.sleep(100);
        }
    }

    static String render(ILoggingEvent event) {
        StringBuilder text = new StringBuilder(event.getFormattedMessage());
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            text.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        }
        return text.toString();
    }
}
