package com.perseusproxy.server.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Node.js drivers: node-postgres ({@code pg}, with {@code pg-copy-streams}) and postgres.js, pinned by
 * {@code drivers/node/package-lock.json}, each driven by its program in {@code drivers/node} against the driver
 * tenants (see {@link DriverTenants}). When {@code node_modules} is missing it is installed with {@code npm ci} (which
 * needs the npm registry); {@code .ci/run} does the same beforehand. Skipped without node and npm, failed under CI.
 */
class DriverNodeTest {

    @TestFactory
    Stream<DynamicTest> nodePostgres() {
        return run("node-postgres", "check_pg.js");
    }

    @TestFactory
    Stream<DynamicTest> postgresJs() {
        return run("postgres.js", "check_postgresjs.js");
    }

    private static Stream<DynamicTest> run(String driver, String script) {
        Optional<Path> node = PgTools.find("node");
        PgTools.requirePresent(node.isPresent(), "node is not installed (Debian: nodejs)");
        Path dir = DriverPrograms.driversDir("node");
        installModules(dir);
        return DriverPrograms.run(driver, List.of(node.get().toString(), dir.resolve(script).toString()), Map.of(),
                dir);
    }

    /** {@code npm ci} once, when the locked packages are not installed yet. */
    private static synchronized void installModules(Path dir) {
        if (Files.exists(dir.resolve("node_modules/.package-lock.json"))) {
            return;
        }
        Optional<Path> npm = PgTools.find("npm");
        PgTools.requirePresent(npm.isPresent(), "drivers/node/node_modules is missing and npm is not installed"
                + " (Debian: npm), so the Node drivers cannot be installed");
        PgTools.Result r = PgTools.run(List.of(npm.get().toString(), "ci", "--no-audit", "--no-fund"), Map.of(), dir,
                Duration.ofMinutes(3));
        PgTools.requirePresent(r.ok(), "npm ci in drivers/node failed\n" + r.describe());
    }
}
