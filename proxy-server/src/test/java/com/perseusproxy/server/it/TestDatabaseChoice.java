package com.perseusproxy.server.it;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.function.BooleanSupplier;

/**
 * Which PostgreSQL the integration tests run against: a Testcontainers PostgreSQL when a Docker engine is reachable
 * (the server image operators run), else zonky's embedded server (a PostgreSQL binary unpacked into a temporary
 * directory, which needs nothing but the JVM). The system property {@code perseus.test.db} or the environment
 * variable {@code PERSEUS_TEST_DB} ({@code embedded}, {@code testcontainers} or {@code auto}) overrides the probe,
 * so a developer with Docker can still run the fast embedded path, and CI can insist on the container.
 */
public final class TestDatabaseChoice {

    public static final String PROPERTY = "perseus.test.db";
    public static final String ENV = "PERSEUS_TEST_DB";

    public enum Kind { EMBEDDED, TESTCONTAINERS }

    /** What was chosen and why, for the log line. */
    public record Choice(Kind kind, String reason) {
    }

    private TestDatabaseChoice() {
    }

    /** The choice for this JVM: the system property, else the environment variable, else the Docker probe. */
    public static Choice current() {
        String override = System.getProperty(PROPERTY);
        String source = "-D" + PROPERTY;
        if (override == null || override.isBlank()) {
            override = System.getenv(ENV);
            source = ENV;
        }
        return choose(override, source, TestDatabaseChoice::dockerReachable);
    }

    /**
     * @param override        {@code embedded}, {@code testcontainers}, {@code auto}, or null/blank (= auto)
     * @param source          where the override came from, for the reason text
     * @param dockerReachable asked only when the override does not decide alone
     * @throws IllegalArgumentException for another value, or {@code testcontainers} without a Docker engine (a
     *                                  forced container that silently became embedded would hide a CI problem)
     */
    public static Choice choose(String override, String source, BooleanSupplier dockerReachable) {
        String value = override == null ? "auto" : override.strip().toLowerCase(Locale.ROOT);
        switch (value) {
            case "embedded":
                return new Choice(Kind.EMBEDDED, source + "=embedded");
            case "testcontainers":
                if (!dockerReachable.getAsBoolean()) {
                    throw new IllegalArgumentException(source + "=testcontainers, but no Docker engine is reachable:"
                            + " start one (or point DOCKER_HOST at one), or use " + PROPERTY + "=embedded");
                }
                return new Choice(Kind.TESTCONTAINERS, source + "=testcontainers");
            case "":
            case "auto":
                return dockerReachable.getAsBoolean()
                        ? new Choice(Kind.TESTCONTAINERS, "a Docker engine is reachable")
                        : new Choice(Kind.EMBEDDED, "no Docker engine is reachable");
            default:
                throw new IllegalArgumentException(source + "=" + override + " is not one of embedded,"
                        + " testcontainers, auto");
        }
    }

    /**
     * A quick look for a local socket or DOCKER_HOST first, so machines without Docker (like this project's CI) do
     * not pay for Testcontainers' full discovery; then Testcontainers' own check, which also finds Docker Desktop,
     * Colima and ~/.testcontainers.properties setups.
     */
    static boolean dockerReachable() {
        boolean hint = System.getenv("DOCKER_HOST") != null
                || Files.exists(Path.of("/var/run/docker.sock"))
                || Files.exists(Path.of(System.getProperty("user.home"), ".docker", "run", "docker.sock"))
                || Files.exists(Path.of(System.getProperty("user.home"), ".testcontainers.properties"));
        if (!hint) {
            return false;
        }
        try {
            return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }
}
