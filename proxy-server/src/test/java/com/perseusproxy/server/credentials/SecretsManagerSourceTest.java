package com.perseusproxy.server.credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendCredentials;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;

/**
 * Kind secrets-manager through the real AWS SDK against {@link FakeSecretsManager}: AWS's database-secret format is
 * read, re-read on its schedule and on SIGHUP, changes are announced, and failures say what to fix without quoting
 * the secret.
 */
class SecretsManagerSourceTest {

    final FakeSecretsManager fake = new FakeSecretsManager();
    final SecretsManagerClient client = AwsClients.secretsManager(fake.awsSettings());
    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void close() {
        scheduler.shutdownNow();
        client.close();
        fake.close();
    }

    @Test
    void readsUsernameAndPasswordSignedWithTheConfiguredKeys() throws Exception {
        fake.put("prod/mm", "AWSCURRENT", "app_odd", "odd-pass-1");
        fake.put("prod/mm", "AWSPENDING", "app_even", "even-pass-1");
        assertEquals(new BackendCredentials("app_odd", "odd-pass-1"),
                new SecretsManagerProvider(client, "prod/mm", "AWSCURRENT", Duration.ZERO).fetch().credentials());
        assertEquals(new BackendCredentials("app_even", "even-pass-1"),
                new SecretsManagerProvider(client, "prod/mm", "AWSPENDING", Duration.ZERO).fetch().credentials());
        assertEquals(0, fake.unsignedCalls());
    }

    @Test
    void failuresSayWhatToFixAndNeverQuoteTheSecret() {
        CredentialFetchException missing = assertThrows(CredentialFetchException.class,
                () -> new SecretsManagerProvider(client, "nope", "AWSCURRENT", Duration.ZERO).fetch());
        assertTrue(missing.getMessage().contains("ResourceNotFoundException"), missing.getMessage());
        String secret = "s3cr3t-in-broken-json";
        fake.putRaw("broken", "AWSCURRENT", "{\"username\": \"u\", \"password\": \"" + secret + "\"");
        CredentialFetchException broken = assertThrows(CredentialFetchException.class,
                () -> new SecretsManagerProvider(client, "broken", "AWSCURRENT", Duration.ZERO).fetch());
        assertFalse(broken.getMessage().contains(secret), broken.getMessage());
        fake.putRaw("nouser", "AWSCURRENT", "{\"password\": \"" + secret + "\"}");
        CredentialFetchException noUser = assertThrows(CredentialFetchException.class,
                () -> new SecretsManagerProvider(client, "nouser", "AWSCURRENT", Duration.ZERO).fetch());
        assertTrue(noUser.getMessage().contains("\"username\""), noUser.getMessage());
        assertFalse(noUser.getMessage().contains(secret), noUser.getMessage());
    }

    @Test
    void reReadOnItsScheduleAndOnSighup() throws Exception {
        fake.put("prod/mm", "AWSCURRENT", "app_odd", "v1");
        AtomicInteger changes = new AtomicInteger();
        CredentialSources sources = new CredentialSources(Map.of("db1:5432/mm",
                new SecretsManagerProvider(client, "prod/mm", "AWSCURRENT", Duration.ofSeconds(1))), scheduler,
                changes::incrementAndGet);
        assertEquals("secrets-manager", sources.kindOf("db1", 5432, "mm"));
        assertEquals("v1", sources.current("db1", 5432, "mm").password());
        fake.put("prod/mm", "AWSCURRENT", "app_odd", "v2");
        waitFor(() -> changes.get() == 1, "the scheduled re-read");
        assertEquals("v2", sources.current("db1", 5432, "mm").password(), "a password change");

        CredentialSources onHup = new CredentialSources(Map.of("db1:5432/mm",
                new SecretsManagerProvider(client, "prod/mm", "AWSCURRENT", Duration.ZERO)), scheduler,
                changes::incrementAndGet);
        assertEquals("v2", onHup.current("db1", 5432, "mm").password());
        fake.put("prod/mm", "AWSCURRENT", "app_even", "e1");
        onHup.refreshAll("SIGHUP");
        waitFor(() -> changes.get() == 2, "the re-read on SIGHUP");
        assertEquals(new BackendCredentials("app_even", "e1"), onHup.current("db1", 5432, "mm"),
                "an account switch");
    }

    private static void waitFor(java.util.function.BooleanSupplier condition, String what) throws Exception {
        long deadline = System.currentTimeMillis() + 10_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }
}
