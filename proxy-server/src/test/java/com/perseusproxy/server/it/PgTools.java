package com.perseusproxy.server.it;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Finds the PostgreSQL client programs (psql, pgbench) and runs them against a {@link Target}. Tests that need them
 * call {@link #require} and are skipped, with the reason, on machines that lack them.
 */
public final class PgTools {

    /** What a finished process left behind. */
    public record Result(int exitCode, String stdout, String stderr, Duration took) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** For assertion messages. */
        public String describe() {
            return "exit " + exitCode + " after " + took.toMillis() + " ms\n--- stdout\n" + stdout
                    + "\n--- stderr\n" + stderr;
        }
    }

    private PgTools() {
    }

    /** The program on PATH, else the newest in {@code /usr/lib/postgresql/<version>/bin}. */
    public static Optional<Path> find(String program) {
        String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(":")) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        Path versions = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(versions)) {
            return Optional.empty();
        }
        try (Stream<Path> dirs = Files.list(versions)) {
            return dirs.map(v -> v.resolve("bin").resolve(program))
                    .filter(Files::isExecutable)
                    .max(Comparator.comparing(PgTools::majorVersion));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The program, or skips the calling test with the reason (fails it under {@code CI=true}, see {@link #requirePresent}). */
    public static Path require(String program) {
        Optional<Path> found = find(program);
        requirePresent(found.isPresent(), program + " is not installed (not on PATH nor in /usr/lib/postgresql/*/bin)");
        return found.get();
    }

    /** True under CI ({@code CI=true}, as {@code .ci/run} is started), where every tool the suite drives must be there. */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /**
     * For a test that needs something outside the JVM (a program, a driver package): when it is missing, skips the
     * test with {@code reason}, but under {@code CI=true} fails it, so that CI cannot pass without running it
     * ({@code .ci/run} installs everything).
     */
    public static void requirePresent(boolean present, String reason) {
        if (present) {
            return;
        }
        if (inCi()) {
            throw new AssertionError(reason + ". CI=true: a missing tool fails the run instead of skipping the test"
                    + " (.ci/run installs it)");
        }
        Assumptions.abort(reason + ": test skipped");
    }

    /** {@code psql} connected to the target, with settings that make its output easy to parse. */
    public static List<String> psql(Target target, String... args) {
        List<String> command = new ArrayList<>(List.of(require("psql").toString(),
                "--no-psqlrc", "--no-align", "--tuples-only", "--quiet", "-v", "ON_ERROR_STOP=1",
                "--dbname=" + target.libpqConnString()));
        command.addAll(Arrays.asList(args));
        return command;
    }

    /** {@code pgbench} with the given arguments, connected to the target (the conninfo goes last, as dbname). */
    public static List<String> pgbench(Target target, String... args) {
        List<String> command = new ArrayList<>();
        command.add(require("pgbench").toString());
        command.addAll(Arrays.asList(args));
        command.add(target.libpqConnString());
        return command;
    }

    /**
     * Runs a command to completion with the target's environment, stdin closed. (Commands hold no password: it
     * travels in PGPASSWORD, so printing a command is safe.) Output goes to temporary files, so a
     * chatty process can never block on a full pipe. A process still running at the timeout is killed and the test
     * fails.
     */
    public static Result run(List<String> command, Target target, Duration timeout) {
        return run(command, target.processEnv(), null, timeout);
    }

    /**
     * Like {@link #run(List, Target, Duration)} with an environment of its own (added to this JVM's, less its
     * {@code PG*} variables) and, if not null, a working directory.
     */
    public static Result run(List<String> command, Map<String, String> env, Path workDir, Duration timeout) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("pgtool-", ".out");
            err = Files.createTempFile("pgtool-", ".err");
            ProcessBuilder pb = builder(command, env);
            if (workDir != null) {
                pb.directory(workDir.toFile());
            }
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            long start = System.nanoTime();
            Process process = pb.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", command)
                        + "\n--- stdout\n" + Files.readString(out) + "\n--- stderr\n" + Files.readString(err));
            }
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), took);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Starts a command with pipes on stdin/stdout (stderr merged into stdout), for tests that drive it live. */
    public static Process start(List<String> command, Target target) {
        try {
            return builder(command, target.processEnv()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ProcessBuilder builder(List<String> command, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().putAll(env);
        pb.environment().put("LC_ALL", "C");
        return pb;
    }

    private static int majorVersion(Path program) {
        try {
            return Integer.parseInt(program.getParent().getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // a leftover temp file is harmless
            }
        }
    }
}
