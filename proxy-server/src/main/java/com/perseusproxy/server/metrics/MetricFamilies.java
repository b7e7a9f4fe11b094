package com.perseusproxy.server.metrics;

import com.perseusproxy.core.auth.VerifiedLoginCache;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.session.ClientRegistry;
import com.perseusproxy.server.config.MetricsSettings;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The one place where every metric family of {@code /metrics} is registered, in two steps because of the start-up
 * order: {@link #create} before the proxy exists (the data path needs {@link #events()} to report to), and
 * {@link #registerProxy} once its pools, sessions and authenticator exist (families read from them at scrape time).
 * A new family goes here (or into {@link PoolMetrics#FAMILIES} when it is per pool), and into docs/METRICS.md.
 *
 * <p>Each proxy has its own {@link PrometheusRegistry}, never the library's default one, so several proxies in one
 * JVM (the tests) never share or clash over series.
 */
public final class MetricFamilies {

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final ProxyMetrics events;

    private MetricFamilies(MetricsSettings settings) {
        this.events = new ProxyMetrics(registry, settings.perTenant());
    }

    /** The families the data path feeds (logins, timeouts, rotation, pools, transactions, queries, bytes). */
    public static MetricFamilies create(MetricsSettings settings) {
        return new MetricFamilies(settings);
    }

    /** Where the proxy's data path reports. */
    public ProxyEvents events() {
        return events;
    }

    /** The login throttle's counters (the admin issue's limits), read at scrape time. */
    public void registerThrottle(com.perseusproxy.core.auth.LoginThrottle throttle) {
        CounterWithCallback.builder().name("perseus_login_failures_total")
                .help("Client logins refused for a wrong password, an unknown tenant or user.")
                .callback(callback -> callback.call(throttle.failuresTotal())).register(registry);
        CounterWithCallback.builder().name("perseus_login_throttle_refused_total")
                .help("Client logins refused by the login throttle, without a password check.")
                .callback(callback -> callback.call(throttle.refusedTotal())).register(registry);
    }

    /** The peer families (cancels across replicas, live replicas, GlobalMaxOpen shares), read at scrape time. */
    public void registerPeers(com.perseusproxy.core.peers.PeerDirectory peers, PoolRegistry pools,
                              java.util.function.Function<com.perseusproxy.core.backend.Destination,
                                      com.perseusproxy.core.pool.PoolSettings> settingsFor) {
        PeerMetrics.register(registry, peers, pools, settingsFor);
    }

    /** The families read at scrape time from the running proxy. */
    public void registerProxy(PoolRegistry pools, ClientRegistry clients, VerifiedLoginCache verifiedLogins) {
        registerProxy(pools, clients, verifiedLogins, d -> "perseus_auth");
    }

    /** @param sourceOf where a pool's credentials come from, for {@code perseus_pool_credentials} */
    public void registerProxy(PoolRegistry pools, ClientRegistry clients, VerifiedLoginCache verifiedLogins,
                              java.util.function.Function<com.perseusproxy.core.backend.Destination, String> sourceOf) {
        registry.register(new PoolMetrics(pools)); // Perseus's names
        registry.register(new PoolCredentialMetrics(pools, sourceOf)); // which credentials each pool uses
        GaugeWithCallback.builder().name("perseus_client_connections")
                .help("Client connections by state: login (not yet logged in), idle (between transactions),"
                        + " waiting (for a backend), active (holding a backend). Counted every 0.5 s.")
                .labelNames("state")
                .callback(callback -> {
                    ClientRegistry.States s = clients.states();
                    callback.call(s.login(), "login");
                    callback.call(s.idle(), "idle");
                    callback.call(s.waiting(), "waiting");
                    callback.call(s.active(), "active");
                })
                .register(registry);
        CounterWithCallback.builder().name("perseus_verified_login_cache_hits_total")
                .help("Logins whose password was found in the verified-login cache (no scrypt run).")
                .callback(callback -> callback.call(verifiedLogins.hits())).register(registry);
        CounterWithCallback.builder().name("perseus_verified_login_cache_misses_total")
                .help("Logins that looked in the verified-login cache and ran scrypt.")
                .callback(callback -> callback.call(verifiedLogins.misses())).register(registry);
        CounterWithCallback.builder().name("perseus_verified_login_cache_evictions_total")
                .help("Verified-login cache entries dropped because the cache was full (VerifiedLoginCacheSize).")
                .callback(callback -> callback.call(verifiedLogins.evictions())).register(registry);
        GaugeWithCallback.builder().name("perseus_verified_login_cache_size")
                .help("Entries in the verified-login cache.")
                .callback(callback -> callback.call(verifiedLogins.size())).register(registry);
    }

    PrometheusRegistry registry() {
        return registry;
    }
}
