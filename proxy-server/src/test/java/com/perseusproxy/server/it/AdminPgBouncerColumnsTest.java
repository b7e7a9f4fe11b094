package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Each SHOW has exactly the columns (names, order, type OIDs) of a real PgBouncer 1.18 answering the same SHOW, so
 * that tools written against PgBouncer read this console unchanged. The test starts Debian's pgbouncer against the
 * test PostgreSQL and compares the RowDescriptions byte for byte in what matters. (SHOW STATE and KILL_CLIENT came
 * after 1.18; SHOW STATE follows PgBouncer 1.19+ and is checked by AdminConsoleTest.) The only difference allowed is
 * a column this proxy documents after all of PgBouncer's, as PgBouncer's own later versions add theirs (1.21 added
 * SHOW CLIENTS' prepared_statements at the end): tools that read by position still find PgBouncer's columns where
 * they were.
 */
class AdminPgBouncerColumnsTest {

    /** Columns after PgBouncer's, each documented in docs/ADMIN.md. */
    private static final Map<String, List<String>> EXTRA_COLUMNS = Map.of("CLIENTS", List.of("dropped_params:25"));
    private static final List<String> SHOWS_IN_1_18 = List.of("POOLS", "CLIENTS", "SERVERS", "STATS",
            "STATS_TOTALS", "STATS_AVERAGES", "DATABASES", "USERS", "LISTS", "CONFIG", "VERSION");

    @Test
    void everyShowHasPgBouncersColumns() throws Exception {
        Path pgbouncer = findPgBouncer();
        TestPostgres pg = Fixtures.postgres();
        Path dir = Files.createTempDirectory("pgbouncer-it");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
        int port = OpsProxy.freePort();
        Files.writeString(dir.resolve("users.txt"), "\"admin\" \"\"\n");
        Files.writeString(dir.resolve("pgbouncer.ini"), """
                [databases]
                appdb = host=%s port=%d dbname=appdb
                [pgbouncer]
                listen_addr = 127.0.0.1
                listen_port = %d
                unix_socket_dir =
                auth_type = trust
                auth_file = %s
                admin_users = admin
                pool_mode = transaction
                logfile = %s
                pidfile = %s
                """.formatted(pg.host(), pg.port(), port, dir.resolve("users.txt"), dir.resolve("pgbouncer.log"),
                dir.resolve("pgbouncer.pid")));
        List<String> command = new ArrayList<>(List.of(pgbouncer.toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            command.addAll(List.of("-u", "nobody")); // pgbouncer refuses to run as root
        }
        command.add(dir.resolve("pgbouncer.ini").toString());
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("stdout.txt").toFile()).start();
        try (AdminBed bed = AdminBed.start(2, "")) {
            awaitPort(port, process, dir);
            Target real = new Target("127.0.0.1", port, "pgbouncer", "admin", "unused", "unused");
            try (PgWire theirs = PgWire.open(real); PgWire ours = bed.adminWire();
                 PgWire tenant = PgWire.open(bed.tenant(Fixtures.TENANT_A))) {
                theirs.login(real, PgWire.PROTOCOL_3_0, Map.of("user", "admin", "database", "pgbouncer"));
                tenant.login(bed.tenant(Fixtures.TENANT_A));
                tenant.queryColumn("select 1"); // so our SHOWs have rows too
                for (String show : SHOWS_IN_1_18) {
                    List<String> expected = new ArrayList<>(AdminBed.columns(theirs.simpleQuery("SHOW " + show)));
                    expected.addAll(EXTRA_COLUMNS.getOrDefault(show, List.of()));
                    List<String> actual = AdminBed.columns(ours.simpleQuery("SHOW " + show));
                    // PgBouncer's columns, in its order; ours may add columns after them (SHOW CLIENTS'
                    // dropped_params), which tools reading PgBouncer's columns by position never see.
                    assertEquals(expected, actual.subList(0, Math.min(expected.size(), actual.size())),
                            "SHOW " + show + " columns (name:type OID)");
                }
            }
        } finally {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
            try (var files = Files.list(dir)) {
                files.map(Path::toFile).forEach(File::delete);
            }
            Files.deleteIfExists(dir);
        }
    }

    private static Path findPgBouncer() {
        Optional<Path> found = PgTools.find("pgbouncer");
        if (found.isEmpty() && Files.isExecutable(Path.of("/usr/sbin/pgbouncer"))) {
            found = Optional.of(Path.of("/usr/sbin/pgbouncer"));
        }
        Assumptions.assumeTrue(found.isPresent(), "pgbouncer is not installed (apt-get install pgbouncer): skipped");
        return found.get();
    }

    private static void awaitPort(int port, Process process, Path dir) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (java.io.IOException notYet) {
                if (!process.isAlive()) {
                    break;
                }
                Thread.sleep(100);
            }
        }
        String log = Files.exists(dir.resolve("pgbouncer.log")) ? Files.readString(dir.resolve("pgbouncer.log")) : "";
        throw new AssertionError("pgbouncer did not start: " + Files.readString(dir.resolve("stdout.txt")) + log);
    }
}
