package com.perseusproxy.server;

import com.perseusproxy.core.config.AuthDbDsn;
import com.perseusproxy.server.config.ClientSettings;
import com.perseusproxy.server.config.ProxyConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The keys a reload cannot apply to a running process (sockets already bound, pools and executors already sized,
 * secrets already loaded), compared between the config the process started with and a re-read one, so the operator
 * is told which edits wait for a restart. Only key names are reported, never values (some are secrets).
 */
final class RestartOnlySettings {

    private RestartOnlySettings() {
    }

    static List<String> changed(ProxyConfig running, ProxyConfig next) {
        List<String> changed = new ArrayList<>();
        check(changed, "ListenAddress", running.listenAddress(), next.listenAddress());
        check(changed, "MetricsAddress", running.metricsAddress(), next.metricsAddress());
        if (!sameDsn(running.authDb().dsn(), next.authDb().dsn())) {
            changed.add("AuthDBSettings.AuthDBDSN");
        }
        check(changed, "AuthDBSettings.AuthQueryTimeoutSecs", running.authDb().queryTimeoutSecs(),
                next.authDb().queryTimeoutSecs());
        check(changed, "AuthDBSettings.NotifyChannel", running.rotation().notifyChannel(),
                next.rotation().notifyChannel());
        check(changed, "AWSSettings", running.aws(), next.aws());
        check(changed, "LocalKeySettings", running.localKey(), next.localKey());
        check(changed, "CredentialSources", running.credentialSources(), next.credentialSources());
        check(changed, "LogSettings.Json", running.log().json(), next.log().json());
        check(changed, "MetricsSettings.PerTenant", running.metrics(), next.metrics());
        check(changed, "ListenReusePort", running.listenReusePort(), next.listenReusePort());
        check(changed, "WorkerThreads", running.workerThreads(), next.workerThreads());
        check(changed, "PeerSettings", running.peers(), next.peers());
        check(changed, "WatchConfigFile", running.watchConfigFile(), next.watchConfigFile());
        ClientSettings a = running.client();
        ClientSettings b = next.client();
        check(changed, "ClientSettings.LoginTimeoutSecs", a.loginTimeout(), b.loginTimeout());
        check(changed, "ClientSettings.MaxConcurrentHashChecks", a.maxConcurrentHashChecks(),
                b.maxConcurrentHashChecks());
        check(changed, "ClientSettings.MaxMessageBytes", a.maxMessageBytes(), b.maxMessageBytes());
        check(changed, "ClientSettings.VerifiedLoginCacheSecs", a.verifiedLoginCacheTtl(), b.verifiedLoginCacheTtl());
        check(changed, "ClientSettings.VerifiedLoginCacheSize", a.verifiedLoginCacheSize(),
                b.verifiedLoginCacheSize());
        return changed;
    }

    private static boolean sameDsn(AuthDbDsn a, AuthDbDsn b) {
        return a.jdbcUrl().equals(b.jdbcUrl()) && Objects.equals(a.user(), b.user())
                && Objects.equals(a.password(), b.password())
                && a.connectionProperties().equals(b.connectionProperties())
                && a.pool().equals(b.pool());
    }

    private static void check(List<String> changed, String key, Object a, Object b) {
        if (!Objects.equals(a, b)) {
            changed.add(key);
        }
    }
}
