package com.perseusproxy.server;

import com.perseusproxy.core.admin.AdminHost;
import com.perseusproxy.core.admin.AdminUsers;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.server.config.ProxyConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service as the admin console sees it: its config (SHOW CONFIG, the console users), RELOAD (what SIGHUP does)
 * and SHUTDOWN (what SIGTERM does). Slow work runs on a thread of its own, never on the event loop the console runs
 * on.
 */
final class ConsoleHost implements AdminHost {

    private static final Logger log = LoggerFactory.getLogger(ConsoleHost.class);

    /** Keys a reload cannot apply (see {@link RestartOnlySettings}): SHOW CONFIG says changeable = no. */
    private static final List<String> RESTART_ONLY = List.of("ListenAddress", "MetricsAddress",
            "AuthDBSettings.AuthDBDSN", "AuthDBSettings.AuthQueryTimeoutSecs", "AuthDBSettings.NotifyChannel",
            "AWSSettings.", "LocalKeySettings.", "CredentialCommands", "LogSettings.Json",
            "ClientSettings.LoginTimeoutSecs", "ClientSettings.MaxConcurrentHashChecks",
            "ClientSettings.MaxMessageBytes", "ClientSettings.VerifiedLoginCache");

    /** Re-reads the config file; set by Main (tests may set their own). */
    interface ConfigSource {
        ProxyConfig read() throws ConfigException;
    }

    private volatile ProxyConfig config;
    private volatile PerseusService service;
    private volatile ConfigSource source;
    private volatile Runnable stopRequest;

    ConsoleHost(ProxyConfig config) {
        this.config = config;
    }

    void attach(PerseusService attached) {
        this.service = attached;
    }

    /** A reload applied this config: SHOW CONFIG and the console users follow it. */
    void configChanged(ProxyConfig applied) {
        this.config = applied;
    }

    void configSource(ConfigSource newSource) {
        this.source = newSource;
    }

    /** What SHUTDOWN should trigger instead of stopping the service itself (Main's graceful-stop path). */
    void stopRequest(Runnable request) {
        this.stopRequest = request;
    }

    /** The config in force (the start's, then each reload's). */
    ProxyConfig config() {
        return config;
    }

    AdminUsers users() {
        return config.admin().toAdminUsers();
    }

    @Override
    public List<String[]> configRows() {
        ProxyConfig current = config;
        List<String[]> rows = new ArrayList<>();
        for (Map.Entry<String, String[]> e : current.listing().entrySet()) {
            String key = e.getKey();
            String value = e.getValue()[0];
            String defaultValue = e.getValue()[1];
            if (key.equals("AuthDBSettings.AuthDBDSN")) {
                value = current.authDb().dsn().toString(); // its password shown as *****
            } else if (isSecret(key)) {
                value = value.isEmpty() ? "" : "*****";
            }
            rows.add(new String[] {key, value, defaultValue, changeable(key) ? "yes" : "no"});
        }
        rows.add(new String[] {"OverrideSettings", String.join(",", current.overrideSettings().keySet()), "", "yes"});
        rows.add(new String[] {"CredentialSources", String.join(",", current.credentialSources().keySet()), "",
                "no"});
        return rows;
    }

    private static boolean isSecret(String key) {
        return key.endsWith("SecretAccessKey") || key.endsWith("AccessKeyId") || key.toLowerCase().contains("password");
    }

    private static boolean changeable(String key) {
        return RESTART_ONLY.stream().noneMatch(key::startsWith);
    }

    @Override
    public CompletableFuture<Void> reload() {
        ConfigSource from = source;
        PerseusService target = service;
        if (from == null || target == null) {
            return AdminHost.NONE.reload();
        }
        return CompletableFuture.runAsync(() -> {
            ProxyConfig next;
            try {
                next = from.read();
            } catch (ConfigException e) {
                throw new PgException("F0000", "the config file is invalid, so the running configuration stays: "
                        + e.getMessage(), false, null);
            }
            target.reload(next);
        }, runnable -> new Thread(runnable, "perseus-console-reload").start());
    }

    @Override
    public void shutdown(boolean waitForClients) {
        PerseusService target = service;
        if (target == null) {
            return;
        }
        Thread stopper = new Thread(() -> {
            if (waitForClients) {
                target.proxy().stopAccepting();
                log.info("console SHUTDOWN WAIT_FOR_CLIENTS: waiting for {} clients to disconnect",
                        target.proxy().clients().size());
                while (target.proxy().clients().size() > 0) {
                    try {
                        TimeUnit.MILLISECONDS.sleep(200);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
            Runnable request = stopRequest;
            if (request != null) {
                request.run(); // Main then runs the graceful shutdown, as after SIGTERM, and exits
            } else {
                target.shutdown();
            }
        }, "perseus-console-shutdown");
        stopper.setDaemon(true);
        // The console's CommandComplete goes out before the listening socket closes.
        CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS).execute(stopper::start);
    }

    @Override
    public List<String[]> rotationRows() {
        PerseusService target = service;
        return target == null ? List.of() : target.rotationRows();
    }

    @Override
    public long nextRefreshSeconds() {
        PerseusService target = service;
        return target == null ? -1 : target.nextRefreshSeconds();
    }
}
