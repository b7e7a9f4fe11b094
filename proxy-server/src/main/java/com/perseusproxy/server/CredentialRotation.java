package com.perseusproxy.server;

import com.perseusproxy.core.auth.Authenticator;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.rotation.ExternalCredentialLogins;
import com.perseusproxy.core.rotation.ExternalCredentials;
import com.perseusproxy.core.rotation.ExternalRouting;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.server.config.AwsSettings;
import com.perseusproxy.server.config.CredentialSourceSettings;
import com.perseusproxy.server.credentials.CredentialSources;
import com.perseusproxy.server.credentials.SourceFactory;
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
    private final CredentialSources sources;
    private final SourceFactory factory;
    private volatile RouteRefresher refresher;
    private AuthChangeListener listener;

    CredentialRotation(RotationSettings settings, DataSource authDb, int queryTimeoutSecs, TenantDirectory directory,
                       SecretDecryptor decryptor, Map<String, CredentialSourceSettings> sourceSettings,
                       AwsSettings aws) {
        this.settings = settings;
        this.directory = directory;
        this.decryptor = decryptor;
        // Two threads: a destination's re-read after refused logins must not queue behind a long periodic refresh.
        this.executor = new ScheduledThreadPoolExecutor(2, new DefaultThreadFactory("perseus-rotation", true));
        this.executor.setRemoveOnCancelPolicy(true);
        this.factory = new SourceFactory(aws);
        // New credentials from a source reach the pools through a refresh of the routes in use.
        this.sources = sourceSettings.isEmpty() ? null
                : new CredentialSources(factory.providers(sourceSettings), executor, this::refreshNow);
        this.external = sources == null ? ExternalCredentials.NONE : sources;
        this.credentialSource = new DestinationCredentialReader(new JdbcDestinationRows(authDb, queryTimeoutSecs),
                decryptor, executor, external, this::refreshNow);
    }

    /** Whether a credential source serves this backend (host, port, database), so its rows need no password. */
    boolean servesExternally(Destination backend) {
        return external.covers(backend.host(), backend.port(), backend.database());
    }

    /** The source's Kind for a backend, or {@code perseus_auth} (for metrics). */
    String sourceOf(Destination backend) {
        String kind = sources == null ? null : sources.kindOf(backend.host(), backend.port(), backend.database());
        return kind == null ? "perseus_auth" : kind;
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

    /** SHOW ROTATION: how routes and credentials are kept fresh, and how the last re-read went. No secret. */
    java.util.List<String[]> consoleRows() {
        java.util.List<String[]> rows = new java.util.ArrayList<>();
        RouteRefresher r = this.refresher;
        long period = r == null ? settings.refreshInterval().toMillis() : r.periodMillis();
        rows.add(new String[] {"refresh_interval_s", String.valueOf(period / 1000)});
        rows.add(new String[] {"notify_channel", settings.notifyChannel().isEmpty() ? "(off)"
                : settings.notifyChannel() + (listener != null ? " (listening)" : "")});
        long last = r == null ? 0 : r.lastRefreshMillis();
        rows.add(new String[] {"last_refresh", last == 0 ? "none yet" : java.time.Instant.ofEpochMilli(last).toString()});
        int[] counts = r == null ? new int[2] : r.lastRefreshCounts();
        rows.add(new String[] {"last_refresh_rows", String.valueOf(counts[0])});
        rows.add(new String[] {"last_refresh_failures", String.valueOf(counts[1])});
        rows.add(new String[] {"next_refresh_s", String.valueOf(nextRefreshSeconds())});
        rows.add(new String[] {"credential_commands", external == ExternalCredentials.NONE ? "(none)" : "configured"});
        return rows;
    }

    /** Seconds until the next periodic re-read, or -1 when there is none. */
    long nextRefreshSeconds() {
        RouteRefresher r = this.refresher;
        if (r == null || r.periodMillis() == 0) {
            return -1;
        }
        long last = r.lastRefreshMillis();
        if (last == 0) {
            return r.periodMillis() / 1000;
        }
        return Math.max(0, (last + r.periodMillis() - System.currentTimeMillis()) / 1000);
    }

    /** SIGHUP: re-reads the credential sources in use, then the rows in use. */
    void reload() {
        if (sources != null) {
            sources.refreshAll("SIGHUP");
        }
        refreshNow();
    }

    /** Re-reads the rows in use now (NOTIFY, a source gave new credentials). */
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
        factory.close();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
