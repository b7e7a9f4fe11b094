package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;

/**
 * Runs a driver program from {@code drivers/} against the driver tenants and turns what it printed into JUnit tests.
 * A program prints {@code PASS <check>} or {@code FAIL <check>: <why>} per check and exits non-zero if any failed;
 * each check becomes a test of its own (so a report names exactly which case broke), and a last test asserts the
 * exit status 0, showing the whole output otherwise (a program that crashed before its checks fails there).
 */
final class DriverPrograms {

    private static final Pattern LINE = Pattern.compile("^(PASS|FAIL) ([A-Za-z0-9_.-]+):? ?(.*)$");
    static final Duration TIMEOUT = Duration.ofSeconds(150);

    private DriverPrograms() {
    }

    /** The repository's top folder (the one with {@code drivers/}), found from the working directory upwards. */
    static Path repoRoot() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("drivers")) && Files.exists(d.resolve("pom.xml"))) {
                return d;
            }
        }
        throw new IllegalStateException("no drivers/ folder above " + dir);
    }

    static Path driversDir(String lang) {
        return repoRoot().resolve("drivers").resolve(lang);
    }

    /** Runs the program to completion and returns one test per check it reported plus the exit-status test. */
    static Stream<DynamicTest> run(String driver, List<String> command, Map<String, String> extraEnv, Path workDir) {
        Map<String, String> env = new LinkedHashMap<>(DriverTenants.programEnv());
        env.putAll(extraEnv);
        PgTools.Result r = PgTools.run(command, env, workDir, TIMEOUT);
        List<DynamicTest> tests = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            Matcher m = LINE.matcher(line.strip());
            if (!m.matches()) {
                continue;
            }
            String check = m.group(2);
            boolean passed = m.group(1).equals("PASS");
            String why = m.group(3);
            tests.add(DynamicTest.dynamicTest(driver + " " + check, () -> {
                if (!passed) {
                    fail(driver + " " + check + ": " + why + "\n--- stderr of the program\n" + r.stderr());
                }
            }));
        }
        tests.add(DynamicTest.dynamicTest(driver + " exits 0", () ->
                assertEquals(0, r.exitCode(), driver + " reported failures or crashed: " + String.join(" ", command)
                        + "\n" + r.describe())));
        return tests.stream();
    }
}
