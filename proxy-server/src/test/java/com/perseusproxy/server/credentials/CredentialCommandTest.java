package com.perseusproxy.server.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command is run without a shell, its JSON read, and failures reported without its output. */
class CredentialCommandTest {

    @TempDir
    Path dir;

    private CredentialCommand catOf(String json) throws Exception {
        Path file = dir.resolve("creds.json");
        Files.writeString(file, json);
        return new CredentialCommand(List.of("cat", file.toString()), Duration.ofSeconds(5));
    }

    @Test
    void readsUserPasswordAndExpiry() throws Exception {
        CredentialCommand.Issued issued = catOf("""
                {"user": "v-app-123", "password": "s3cret", "expires_at": "2030-01-31T12:00:00Z"}""").run();
        assertEquals(new BackendCredentials("v-app-123", "s3cret"), issued.credentials());
        assertEquals(Instant.parse("2030-01-31T12:00:00Z"), issued.expiresAt());
        assertNull(catOf("{\"user\": \"u\", \"password\": \"p\"}").run().expiresAt());
    }

    @Test
    void badOutputIsReportedWithoutEchoingIt() throws Exception {
        CredentialCommandException e = assertThrows(CredentialCommandException.class,
                () -> catOf("not json, password hunter2").run());
        assertFalse(e.getMessage().contains("hunter2"), e.getMessage());
        e = assertThrows(CredentialCommandException.class, () -> catOf("{\"user\": \"u\"}").run());
        assertTrue(e.getMessage().contains("\"password\""), e.getMessage());
    }

    @Test
    void noShellIsInvolved() throws Exception {
        // With a shell this would print "x"; without one, echo prints its argument verbatim: not JSON.
        CredentialCommand command = new CredentialCommand(List.of("echo", "$(printf x)"), Duration.ofSeconds(5));
        assertThrows(CredentialCommandException.class, command::run);
    }

    @Test
    void failingAndHangingCommandsAreReported() {
        assertTrue(assertThrows(CredentialCommandException.class,
                () -> new CredentialCommand(List.of("false"), Duration.ofSeconds(5)).run()).getMessage()
                .contains("exited with status 1"));
        assertTrue(assertThrows(CredentialCommandException.class,
                () -> new CredentialCommand(List.of("sleep", "10"), Duration.ofSeconds(1)).run()).getMessage()
                .contains("did not finish within 1 s"));
        assertTrue(assertThrows(CredentialCommandException.class,
                () -> new CredentialCommand(List.of("/no/such/program"), Duration.ofSeconds(1)).run()).getMessage()
                .contains("cannot start"));
    }

    @Test
    void cachedUntilRenewedAndChangesAreAnnounced() throws Exception {
        Path file = dir.resolve("creds.json");
        Files.writeString(file, "{\"user\": \"a\", \"password\": \"pa\"}");
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
        AtomicInteger changes = new AtomicInteger();
        try {
            CredentialSources credentials = new CredentialSources(Map.of("db1:6432/mm", new CommandProvider(
                    new CredentialCommand(List.of("cat", file.toString()), Duration.ofSeconds(5)))), scheduler,
                    changes::incrementAndGet);
            assertTrue(credentials.covers("db1", 6432, "mm"));
            assertFalse(credentials.covers("db1", 5432, "mm"));
            assertEquals(new BackendCredentials("a", "pa"), credentials.current("db1", 6432, "mm"));
            Files.writeString(file, "{\"user\": \"b\", \"password\": \"pb\"}");
            assertEquals("a", credentials.current("db1", 6432, "mm").user(), "cached: no expiry given");
            assertEquals("a", credentials.renew("db1", 6432, "mm").user(), "not re-run within 5 s of the last run");
            assertEquals(0, changes.get());
        } finally {
            scheduler.shutdownNow();
        }
    }
}
