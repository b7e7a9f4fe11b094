package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A password-guessing flood against a proxy in its own process: 500 wrong-password attempts in a few seconds from one
 * address. The login throttle refuses most of them without a password check, so the proxy's CPU (read from
 * /proc/PID/stat) stays far below what 500 scrypt runs cost, a good client of another tenant from another address
 * logs in within twice its normal time, and the log summarizes the failures instead of writing one line each. The
 * connection limits refuse with 53300.
 */
class LoginLimitsTest {

    private static final int ATTEMPTS = 500;
    private static final int PARALLEL = 100;

    @TempDir
    Path dir;

    @Test
    void floodFromOneAddressCostsLittleAndSparesOtherTenants() throws Exception {
        int port = OpsProxy.freePort();
        // Every login costs its scrypt run (no verified-login cache), so "normal login time" is the honest one.
        String json = OpsProxy.config(":" + port, OpsProxy.authDsn(), 3, "",
                ", \"ClientSettings\": { \"VerifiedLoginCacheSecs\": 0 }"
                        + ", \"AdminSettings\": { \"AdminUsers\": { \"" + AdminBed.ADMIN + "\": \""
                        + AdminBed.adminHash() + "\" } }");
        Path config = dir.resolve("config.json");
        Files.writeString(config, json);
        Path log = dir.resolve("proxy.log");
        Process proxy = OpsProxy.spawn(config, log);
        try {
            OpsProxy.awaitLog(log, "listening on", 60);
            Target good = new Target("127.0.0.2", port, TestPostgres.APP_DB, Fixtures.TENANT_B.user(),
                    Fixtures.TENANT_B.password(), Fixtures.TENANT_B.schema());
            loginMillis(good); // warm-up: JIT, pools
            // "Normal" is sampled before and after the flood and "during" in the middle of it, so that both see the
            // same load from the rest of the machine (a shared CI host): one median of 5 taken first failed once
            // when the host got busier just as the flood began.
            List<Long> normalTimes = loginTimes(good, 5);

            long cpuBefore = cpuMillis(proxy.pid());
            Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
            ExecutorService attackers = Executors.newFixedThreadPool(PARALLEL);
            List<Future<?>> attempts = new ArrayList<>();
            long floodStart = System.nanoTime();
            // When the last attempt was answered: the "during" logins must have ended before it.
            AtomicLong lastAttemptDone = new AtomicLong(floodStart);
            Target wrong = new Target("127.0.0.1", port, TestPostgres.APP_DB, Fixtures.TENANT_A.user(),
                    "guess", Fixtures.TENANT_A.schema());
            for (int i = 0; i < ATTEMPTS; i++) {
                attempts.add(attackers.submit(() -> {
                    String outcome;
                    try (PgWire wire = PgWire.open(wrong)) {
                        wire.login(wrong);
                        outcome = "accepted";
                    } catch (PgWire.ServerError e) {
                        outcome = e.sqlState();
                    } catch (RuntimeException | AssertionError e) {
                        outcome = "io";
                    }
                    outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                    lastAttemptDone.accumulateAndGet(System.nanoTime(), (a, b) -> b - a > 0 ? b : a);
                }));
            }
            Thread.sleep(1000); // the throttle has engaged: measure the good client while the flood goes on
            List<Long> duringTimes = loginTimes(good, 7);
            long duringEnded = System.nanoTime();
            for (Future<?> f : attempts) {
                f.get(120, TimeUnit.SECONDS);
            }
            long floodMillis = (System.nanoTime() - floodStart) / 1_000_000;
            boolean measuredDuringFlood = lastAttemptDone.get() - duringEnded > 0;
            attackers.shutdown();
            long cpu = cpuMillis(proxy.pid()) - cpuBefore;
            normalTimes.addAll(loginTimes(good, 5));
            long normal = median(normalTimes);
            long during = median(duringTimes);

            System.out.printf("login flood: %s in %d ms; proxy CPU %d ms; good login %d ms normal, %d ms during%n",
                    outcomes, floodMillis, cpu, normal, during);
            assertEquals(ATTEMPTS, outcomes.values().stream().mapToInt(AtomicInteger::get).sum(), outcomes.toString());
            assertEquals(null, outcomes.get("accepted"), "no guess got in: " + outcomes);
            int checked = outcomes.getOrDefault("28P01", new AtomicInteger()).get();
            int refused = outcomes.getOrDefault("28000", new AtomicInteger()).get();
            assertTrue(refused >= ATTEMPTS * 8 / 10, "the throttle refused most attempts: " + outcomes);
            // 20 in the burst, one more per 3 s of flood.
            assertTrue(checked <= 20 + floodMillis / 3000 + 2, "password checks stay bounded: " + outcomes);
            assertTrue(measuredDuringFlood, "the good logins were measured while the flood went on");
            assertTrue(during <= Math.max(2 * normal, normal + 40),
                    "a good client of another tenant logs in at normal speed: median " + during + " ms of "
                            + duringTimes + " during the flood vs " + normal + " ms of " + normalTimes
                            + " before and after");
            // 500 scrypt runs alone would cost ~25 s of CPU; what is left is the connections themselves.
            assertTrue(cpu < 8000, "proxy CPU during the flood: " + cpu + " ms for " + ATTEMPTS + " attempts in "
                    + floodMillis + " ms");

            String text = Files.readString(log, StandardCharsets.UTF_8);
            long failedLines = text.lines().filter(l -> l.contains("login failed")).count();
            assertTrue(failedLines <= 5, "failed logins are summarized, not logged each: " + failedLines + " lines");
            try (PgWire admin = consoleFrom(port)) {
                List<PgWire.Message> throttle = admin.simpleQuery("SHOW THROTTLE");
                assertTrue(AdminBed.column(throttle, "key").contains("127.0.0.1"), AdminBed.rows(throttle).toString());
            }
            OpsProxy.awaitLog(log, "more failed logins from 127.0.0.1 for tenant appdb/tenant_a", 15);
        } finally {
            proxy.destroy();
            if (!proxy.waitFor(20, TimeUnit.SECONDS)) {
                proxy.destroyForcibly();
            }
        }
    }

    @Test
    void connectionLimitsRefuseWith53300() {
        try (AdminBed bed = AdminBed.start(2, ", \"ClientSettings\": { \"MaxClientConnections\": 3,"
                + " \"MaxClientConnectionsPerTenant\": 2 }");
             PgWire a1 = PgWire.open(bed.tenant(Fixtures.TENANT_A));
             PgWire a2 = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
            a1.login(bed.tenant(Fixtures.TENANT_A));
            a2.login(bed.tenant(Fixtures.TENANT_A));
            try (PgWire a3 = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
                PgWire.ServerError perTenant = org.junit.jupiter.api.Assertions.assertThrows(
                        PgWire.ServerError.class, () -> a3.login(bed.tenant(Fixtures.TENANT_A)));
                assertEquals("53300", perTenant.sqlState());
                assertTrue(perTenant.getMessage().contains("MaxClientConnectionsPerTenant"), perTenant.getMessage());
                assertTrue(a3.closedByServer(), "the refused connection is closed");
            }
            // Every TCP connection counts against MaxClientConnections: a client refused one is gone once closed.
            awaitClients(bed, 2);
            try (PgWire b1 = PgWire.open(bed.tenant(Fixtures.TENANT_B))) {
                b1.login(bed.tenant(Fixtures.TENANT_B)); // another tenant still gets in: 3 in all
                PgWire b2 = PgWire.open(bed.tenant(Fixtures.TENANT_B));
                PgWire.ServerError total = org.junit.jupiter.api.Assertions.assertThrows(PgWire.ServerError.class,
                        () -> b2.login(bed.tenant(Fixtures.TENANT_B)));
                assertEquals("53300", total.sqlState());
                assertTrue(total.getMessage().contains("MaxClientConnections"), total.getMessage());
                b2.close();
            }
        }
    }

    private static void awaitClients(AdminBed bed, int count) {
        for (int i = 0; i < 100 && bed.proxy.proxy().clients().size() != count; i++) {
            TestPostgres.sleep(20);
        }
        assertEquals(count, bed.proxy.proxy().clients().size());
    }

    private static PgWire consoleFrom(int port) {
        Target admin = new Target("127.0.0.2", port, "pgbouncer", AdminBed.ADMIN, AdminBed.ADMIN_PASSWORD, "x");
        PgWire wire = openFrom(admin);
        wire.login(admin, PgWire.PROTOCOL_3_0, Map.of("user", AdminBed.ADMIN, "database", "pgbouncer"));
        return wire;
    }

    /** A connection from the target's host as local address too (127.0.0.2 is another source than 127.0.0.1). */
    private static PgWire openFrom(Target target) {
        try {
            Socket socket = new Socket(InetAddress.getByName("127.0.0.1"), target.port(),
                    InetAddress.getByName(target.host()), 0);
            socket.setSoTimeout(20_000);
            return PgWire.over(socket);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long loginMillis(Target target) {
        long start = System.nanoTime();
        try (PgWire wire = openFrom(target)) {
            wire.login(target);
        }
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static List<Long> loginTimes(Target target, int count) {
        List<Long> times = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            times.add(loginMillis(target));
        }
        return times;
    }

    /** The upper median: with an even count, the larger of the middle two. */
    private static long median(List<Long> times) {
        List<Long> sorted = new ArrayList<>(times);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    /** utime + stime of the process, from /proc/PID/stat, in milliseconds (USER_HZ is 100 on Linux). */
    private static long cpuMillis(long pid) throws Exception {
        String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }
}
