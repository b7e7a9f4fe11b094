package com.perseusproxy.server.it;

import com.perseusproxy.server.it.TestDatabaseChoice.Kind;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The choice between a Testcontainers PostgreSQL and the embedded one, with the Docker probe injected. */
class TestDatabaseChoiceTest {

    static final BooleanSupplier DOCKER = () -> true;
    static final BooleanSupplier NO_DOCKER = () -> false;

    @Test
    void withoutAnOverrideTheProbeDecides() {
        assertEquals(Kind.TESTCONTAINERS, TestDatabaseChoice.choose(null, "-Dperseus.test.db", DOCKER).kind());
        assertEquals(Kind.EMBEDDED, TestDatabaseChoice.choose(null, "-Dperseus.test.db", NO_DOCKER).kind());
        assertEquals(Kind.EMBEDDED, TestDatabaseChoice.choose(" ", "PERSEUS_TEST_DB", NO_DOCKER).kind());
        assertEquals(Kind.TESTCONTAINERS, TestDatabaseChoice.choose("AUTO", "PERSEUS_TEST_DB", DOCKER).kind());
        assertTrue(TestDatabaseChoice.choose(null, "x", NO_DOCKER).reason().contains("no Docker engine"));
    }

    @Test
    void embeddedWinsOverDockerAndNeverProbes() {
        AtomicInteger probes = new AtomicInteger();
        TestDatabaseChoice.Choice choice = TestDatabaseChoice.choose("embedded", "-Dperseus.test.db", () -> {
            probes.incrementAndGet();
            return true;
        });
        assertEquals(Kind.EMBEDDED, choice.kind());
        assertEquals("-Dperseus.test.db=embedded", choice.reason());
        assertEquals(0, probes.get(), "no Docker discovery when it cannot change the answer");
    }

    @Test
    void aForcedContainerNeedsDocker() {
        assertEquals(Kind.TESTCONTAINERS, TestDatabaseChoice.choose("testcontainers", "PERSEUS_TEST_DB", DOCKER).kind());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestDatabaseChoice.choose("testcontainers", "PERSEUS_TEST_DB", NO_DOCKER));
        assertTrue(e.getMessage().contains("no Docker engine is reachable"), e.getMessage());
    }

    @Test
    void anUnknownValueIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TestDatabaseChoice.choose("docker", "-Dperseus.test.db", DOCKER));
        assertTrue(e.getMessage().contains("embedded, testcontainers, auto"), e.getMessage());
    }

    @Test
    void thisMachineHasNoDockerSoTheEmbeddedServerRuns() {
        // Documents the environment the suite runs in here; elsewhere it only checks that the probe answers.
        boolean reachable = TestDatabaseChoice.dockerReachable();
        assertEquals(reachable ? Kind.TESTCONTAINERS : Kind.EMBEDDED,
                TestDatabaseChoice.choose(null, "-Dperseus.test.db", () -> reachable).kind());
    }
}
