package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Secrets never reach the proxy's log: not the client passwords (right or wrong), not the backend passwords, not the
 * stored hashes and ciphertexts, not the local key. Runs logins that succeed and fail in every way, at DEBUG level,
 * and searches every captured line and stack trace.
 */
class SecretsNeverLoggedTest {

    @Test
    void noSecretInAnyLogLine() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's log is what is checked");
        TestProxy.get();
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Logger proxyLogs = (Logger) LoggerFactory.getLogger("com.perseusproxy");
        Level previous = proxyLogs.getLevel();
        ListAppender<ILoggingEvent> captured = new ListAppender<>();
        captured.start();
        root.addAppender(captured);
        proxyLogs.setLevel(Level.DEBUG);
        String wrongPassword = "wrong-password-" + System.nanoTime();
        String wrongBackendPassword = "wrong-backend-password-" + System.nanoTime();
        try {
            for (SampleTenant tenant : List.of(Fixtures.TENANT_A, Fixtures.TENANT_B, Fixtures.EVIL)) {
                try (Connection c = Targets.forTenant(tenant).connect()) {
                    c.createStatement().execute("select 1");
                }
            }
            Target a = Targets.forTenant(Fixtures.TENANT_A);
            assertThrows(SQLException.class, () -> a.withPassword(wrongPassword).connect().close());
            assertThrows(SQLException.class, () -> a.withUser("nobody").withPassword(wrongPassword).connect().close());
            SampleTenant badBackend = new SampleTenant("secrets_bad_backend", Fixtures.TENANT_A.schema(),
                    "secrets_user", "secrets-user-pw-" + System.nanoTime());
            ProxyBackendLoginTest.installUnpooled(badBackend, wrongBackendPassword, TestPostgres.APP_OWNER.name());
            assertThrows(SQLException.class,
                    () -> Targets.viaProxy(badBackend, "127.0.0.1", TestProxy.port()).connect().close());
        } finally {
            root.detachAppender(captured);
            proxyLogs.setLevel(previous);
        }

        List<String> secrets = new ArrayList<>(List.of(wrongPassword, wrongBackendPassword,
                TestPostgres.APP_OWNER.password(), TestPostgres.APP_MD5.password(), TestPostgres.APP_PLAIN.password(),
                Files.readString(Fixtures.localKeyFile()).strip().replaceFirst("^[^:]*:", "")));
        for (SampleTenant tenant : Fixtures.ALL) {
            secrets.add(tenant.password());
        }
        secrets.addAll(TestPostgres.storedSecrets(Fixtures.postgres()));
        assertFalse(captured.list.isEmpty(), "the logins were logged");
        assertTrue(captured.list.stream().anyMatch(e -> e.getFormattedMessage().contains("secret:")),
                "logins name credentials by fingerprint");
        for (ILoggingEvent event : captured.list) {
            String text = render(event);
            for (String secret : secrets) {
                assertFalse(text.contains(secret), "a log line contains a secret: " + text.replace(secret, "<HERE>"));
            }
        }
    }

    private static String render(ILoggingEvent event) {
        StringBuilder text = new StringBuilder(event.getFormattedMessage());
        for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
            text.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
        }
        return text.toString();
    }
}
