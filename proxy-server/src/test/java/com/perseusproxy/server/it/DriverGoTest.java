package com.perseusproxy.server.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Go drivers from the distribution's packages: lib/pq (Perseus's and Mattermost's own driver, Debian
 * golang-github-lib-pq-dev) and pgx v4 (golang-github-jackc-pgx-v4-dev), built from {@code drivers/go} in GOPATH
 * mode against {@code /usr/share/gocode} (no module download), once per JVM into {@code target/}. They connect with
 * Perseus's DSN shape, {@code schema_search_path=<schema>} (see {@link DriverTenants#programEnv()}). Skipped when the
 * Go toolchain or a package is missing, failed under CI.
 */
class DriverGoTest {

    private static final Path GOPATH = Path.of("/usr/share/gocode");
    private static Path binary;

    @TestFactory
    Stream<DynamicTest> libpq() {
        return DriverPrograms.run("lib/pq", List.of(build().toString(), "libpq"), Map.of(), null);
    }

    @TestFactory
    Stream<DynamicTest> pgxV4() {
        return DriverPrograms.run("pgx v4", List.of(build().toString(), "pgx"), Map.of(), null);
    }

    private static synchronized Path build() {
        if (binary != null) {
            return binary;
        }
        Optional<Path> go = PgTools.find("go");
        PgTools.requirePresent(go.isPresent(), "go is not installed (Debian: golang-go)");
        for (String pkg : List.of("github.com/lib/pq", "github.com/jackc/pgx/v4")) {
            PgTools.requirePresent(Files.isDirectory(GOPATH.resolve("src").resolve(pkg)),
                    pkg + " is not in " + GOPATH + " (Debian: golang-github-lib-pq-dev, golang-github-jackc-pgx-v4-dev)");
        }
        Path target = Path.of("target").toAbsolutePath().resolve("drivers-go");
        Path out = target.resolve("drvcheck");
        Map<String, String> env = new LinkedHashMap<>();
        env.put("GO111MODULE", "off");
        env.put("GOPATH", GOPATH.toString());
        env.put("GOFLAGS", "");
        env.put("GOCACHE", target.resolve("cache").toString());
        PgTools.Result r = PgTools.run(List.of(go.get().toString(), "build", "-o", out.toString(), "."), env,
                DriverPrograms.driversDir("go"), Duration.ofMinutes(4));
        if (!r.ok()) {
            throw new AssertionError("building drivers/go failed\n" + r.describe());
        }
        binary = out;
        return binary;
    }
}
