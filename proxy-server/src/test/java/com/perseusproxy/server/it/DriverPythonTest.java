package com.perseusproxy.server.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Python drivers from the distribution's packages (Debian: python3-psycopg, python3-psycopg-pool, python3-asyncpg,
 * python3-psycopg2), each driven by its program in {@code drivers/python} against the two driver tenants (see
 * {@link DriverTenants}). Debian's interpreter {@code /usr/bin/python3} is used, not whatever {@code python3} comes
 * first on PATH, because the packages are installed for it. Skipped when a package is missing, failed under CI.
 */
class DriverPythonTest {

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @TestFactory
    Stream<DynamicTest> psycopg3() {
        return run("psycopg", "check_psycopg.py", "psycopg", "psycopg_pool");
    }

    @TestFactory
    Stream<DynamicTest> asyncpg() {
        return run("asyncpg", "check_asyncpg.py", "asyncpg");
    }

    @TestFactory
    Stream<DynamicTest> psycopg2() {
        return run("psycopg2", "check_psycopg2.py", "psycopg2");
    }

    private static Stream<DynamicTest> run(String driver, String script, String... modules) {
        PgTools.requirePresent(Files.isExecutable(PYTHON), PYTHON + " (Debian's python3) is not installed");
        String imports = "import " + String.join(", ", modules);
        PgTools.Result probe = PgTools.run(List.of(PYTHON.toString(), "-c", imports), Map.of(), null,
                Duration.ofSeconds(30));
        PgTools.requirePresent(probe.ok(), "Python module(s) " + String.join(", ", modules)
                + " missing for " + PYTHON + " (Debian packages python3-psycopg, python3-psycopg-pool,"
                + " python3-asyncpg, python3-psycopg2): " + probe.stderr().strip());
        Path dir = DriverPrograms.driversDir("python");
        return DriverPrograms.run(driver, List.of(PYTHON.toString(), "-B", "-u", dir.resolve(script).toString()),
                Map.of("PYTHONDONTWRITEBYTECODE", "1"), dir);
    }
}
