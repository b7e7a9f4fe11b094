package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.server.PerseusService;
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
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 4, case 6: when no credential works, clients get a clear error naming the destination (and no secret), the
 * proxy's logins against PostgreSQL stay few however hard clients retry, and service resumes by itself once a right
 * password appears in perseus_auth.
 */
class NothingWorksBackoffTest {

    static final String PREFIX = "rot_broken_";
    static final String ROLE = "rot_broken_role";
    static final int CLIENTS = 6;

    @Test
    void wrongEverywhereGivesAClearErrorBoundedLoginsAndRecovers() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's backend logins are what is tested");
        String stamp = Long.toString(System.nanoTime(), 36);
        String right = "right-" + stamp;
        String wrong = "wrong-" + stamp;
        String clientPassword = "client-" + stamp;
        RotationBed.createRole(ROLE, right);
        RotationBed.upsertRow(PREFIX + "1", Fixtures.TENANT_A.schema(), "broken_user", EasyScrypt.hash(clientPassword),
                ROLE, wrong);
        RotationBed.installNotifyTrigger();
        Target tenant = new Target("127.0.0.1", 0, PREFIX + "1", "broken_user", clientPassword,
                Fixtures.TENANT_A.schema());
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        // No periodic refresh: recovery must come from the NOTIFY (or a client's login reading the fixed row).
        try (PerseusService proxy = RotationBed.startProxy(5, 0)) {
            Target viaProxy = new Target(tenant.host(), proxy.port(), tenant.database(), tenant.user(),
                    tenant.password(), tenant.schema());
            AtomicLong clientAttempts = new AtomicLong();
            List<String> unexpected = new ArrayList<>();
            long until = System.currentTimeMillis() + 8000;
            List<Future<?>> done = new ArrayList<>();
            for (int i = 0; i < CLIENTS; i++) {
                done.add(clients.submit(() -> {
                    while (System.currentTimeMillis() < until) {
                        clientAttempts.incrementAndGet();
                        try (Connection c = viaProxy.connect()) {
                            synchronized (unexpected) {
                                unexpected.add("a login succeeded with a wrong backend password");
                            }
                        } catch (SQLException e) {
                            String m = e.getMessage();
                            if (!"08004".equals(e.getSQLState()) || !m.contains(ROLE + "@127.0.0.1")
                                    || !m.contains("dest_pass_enc") || m.contains(wrong) || m.contains(right)
                                    || m.contains(clientPassword)) {
                                synchronized (unexpected) {
                                    unexpected.add(e.getSQLState() + " " + m);
                                }
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
            assertEquals(List.of(), unexpected);
            BackendPool pool = RotationBed.poolOf(proxy, ROLE);
            assertNotNull(pool);
            long serverLogins = pool.serverLoginCount();
            // Backoff 0.5 s, 1 s, 2 s, 4 s: about 5 attempts in 8 s, each one login (the re-read finds nothing new).
            assertTrue(serverLogins <= 10, "logins sent to PostgreSQL: " + serverLogins);
            assertTrue(clientAttempts.get() > 3 * serverLogins, "clients tried " + clientAttempts.get()
                    + " times, the server saw " + serverLogins + " logins");
            assertTrue(pool.failingLogins());
            System.out.printf("nothing works: %d client logins, %d backend logins in 8 s%n", clientAttempts.get(),
                    serverLogins);

            // The operator writes the right password: service resumes without anyone restarting anything.
            RotationBed.setBackend(PREFIX, ROLE, right);
            long fixedAt = System.nanoTime();
            CredentialRotationDrillTest.waitUntil(() -> {
                try (Connection c = viaProxy.connect(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("select current_user")) {
                    rs.next();
                    return rs.getString(1).equals(ROLE);
                } catch (SQLException e) {
                    return false;
                }
            }, 10_000, "the fixed password is used");
            assertFalse(pool.failingLogins());
            System.out.printf("nothing works: recovered %d ms after the row was fixed%n",
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - fixedAt));
        } finally {
            clients.shutdownNow();
            RotationBed.deleteRows(PREFIX);
            RotationBed.dropNotifyTrigger();
        }
    }
}
