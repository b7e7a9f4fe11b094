package com.perseusproxy.server;

import com.perseusproxy.core.auth.Authenticator;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.rotation.ExternalCredentialLogins;
import com.perseusproxy.core.rotation.ExternalCredentials;
import com.perseusproxy.core.rotation.ExternalRouting;
import com.perseusproxy.server.config.CredentialCommandSettings;
import com.perseusproxy.server.credentials.CommandCredentials;
import com.perseusproxy.server.credentials.CredentialCommand;
import java.util.LinkedHashMap;
import java.util.Map;
import com.perseusproxy.core.pool.TenantRoutes;
import com.perseusproxy.core.rotation.DestinationCredentialReader;
import com.perseusproxy.core.rotation.RouteRefresher;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.tenant.JdbcDestinationRows;
import com.perseusproxy.core.tenant.TenantDirectory;
import com.perseusproxy.server.config.RotationSettings;
import com.zaxxer.hikari.HikariConfig;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/**
 * The parts of the service that let credentials change under it: pools re-read a destination's credentials when all
 * known ones are refused, the routes in use are refreshed periodically, on SIGHUP and on NOTIFY. Built before the
 * proxy (the pools need {@link #credentialSource()}), started once the proxy's routes exist.
 */
final class CredentialRotation implements AutoCloseable {

    private final RotationSettings settings;
    private final TenantDirectory directory;
    private final SecretDecryptor decryptor;
    private final ScheduledThreadPoolExecutor executor;
    private final DestinationCredentialReader credentialSource;
    private final ExternalCredentials external;
    private volatile RouteRefresher refresher;
    private AuthChangeListener listener;

    CredentialRotation(RotationSettings settings, DataSource authDb, int queryTimeoutSecs, TenantDirectory directory,
                       SecretDecryptor decryptor, Map<String, CredentialCommandSettings> commands) {
        this.settings = settings;
        this.directory = directory;
        this.decryptor = decryptor;
        // Two threads: a destination's re-read after refused logins must not queue behind a long periodic refresh.
        this.executor = new ScheduledThreadPoolExecutor(2, new DefaultThreadFactory("perseus-rotation", true));
        this.executor.setRemoveOnCancelPolicy(true);
        this.external = commands.isEmpty() ? ExternalCredentials.NONE : commandCredentials(commands);
        this.credentialSource = new DestinationCredentialReader(new JdbcDestinationRows(authDb, queryTimeoutSecs),
                decryptor, executor, external, this::refreshNow);
    }

    private ExternalCredentials commandCredentials(Map<String, CredentialCommandSettings> commands) {
        Map<String, CredentialCommand> byBackend = new LinkedHashMap<>();
        commands.forEach((name, c) -> byBackend.put(name, new CredentialCommand(c.command(), c.timeout())));
        // New credentials from a renewal reach the pools through a refresh of the routes in use.
        return new CommandCredentials(byBackend, executor, this::refreshNow);
    }

    CredentialSource credentialSource() {
        return credentialSource;
    }

    /** Client logins, pointed at externally issued accounts where CredentialCommands says so. */
    Authenticator logins(Authenticator checked) {
        return external == ExternalCredentials.NONE ? checked
                : new ExternalCredentialLogins(checked, new ExternalRouting(external), executor);
    }

    void start(TenantRoutes routes, HikariConfig authDbConfig) {
        refresher = new RouteRefresher(directory, decryptor, routes, executor, new ExternalRouting(external));
        refresher.startPeriodic(settings.refreshInterval());
        if (!settings.notifyChannel().isEmpty()) {
            listener = new AuthChangeListener(authDbConfig, settings.notifyChannel(), refresher::refreshNow);
            listener.start();
        }
    }

    /** A reload changed AuthDBSettings.RefreshIntervalSecs: reschedule the periodic re-read. */
    void refreshInterval(java.time.Duration interval) {
        RouteRefresher refresher = this.refresher;
        if (refresher != null) {
            refresher.startPeriodic(interval);
        }
    }

    /** Re-reads the rows in use now (SIGHUP). */
    void refreshNow() {
        RouteRefresher refresher = this.refresher;
        if (refresher != null) {
            refresher.refreshNow();
        }
    }

    @Override
    public void close() {
        if (listener != null) {
            listener.close();
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
