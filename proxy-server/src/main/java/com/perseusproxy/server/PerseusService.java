package com.perseusproxy.server;

import com.perseusproxy.core.auth.AuthLimits;
import com.perseusproxy.core.peers.PeerDirectory;
import com.perseusproxy.server.peers.PeerRegistry;
import com.perseusproxy.core.auth.ScryptAuthenticator;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.secrets.KmsDecryptor;
import com.perseusproxy.core.secrets.KmsSettings;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.secrets.SecretDecryptors;
import com.perseusproxy.core.tenant.JdbcTenantDirectory;
import com.perseusproxy.core.tls.ClientTls;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.server.metrics.BuildInfo;
import com.perseusproxy.server.metrics.MetricFamilies;
import com.perseusproxy.server.metrics.MetricsServer;
import com.perseusproxy.server.metrics.Readiness;
import com.perseusproxy.core.session.ClientTimeouts;
import java.util.concurrent.atomic.AtomicBoolean;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole service assembled from a {@link ProxyConfig}: the auth-database pool, the tenant directory, the secret
 * decryptors (local key and/or AWS KMS, side by side, so a table can mix both), the authenticator, the listening
 * proxy and the metrics endpoint. Closing it stops them in reverse order.
 */
public final class PerseusService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PerseusService.class);

    private final HikariDataSource authDb;
    private final KmsDecryptor kms;
    private final ScryptAuthenticator authenticator;
    private final ProxyServer proxy;
    private final PoolSettingsResolver poolSettings;
    private final MetricsServer metrics;
    private final CredentialRotation rotation;
    private final ClientTls clientTls;
    private final ServerTlsResolver serverTls;
    private final Readiness readiness;
    private final PeerDirectory peerDirectory;
    private final PeerRegistry peers;
    /** What the process started with: restart-only keys are compared with it on every reload. */
    private final ProxyConfig started;
    /** The client timeouts in force; every session's sweep reads them, so a reload applies at once. */
    private final java.util.concurrent.atomic.AtomicReference<ClientTimeouts.Settings> timeouts;
    private volatile ProxyConfig current;
    private final AtomicBoolean forceStop = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The admin console's view of this service (config, reload, shutdown). */
    private ConsoleHost consoleHost;
    /** WatchConfigFile's poller, or null. */
    private volatile ConfigFileWatch configWatch;

    private PerseusService(HikariDataSource authDb, KmsDecryptor kms, ScryptAuthenticator authenticator,
                           ProxyServer proxy, PoolSettingsResolver poolSettings, MetricsServer metrics,
                           CredentialRotation rotation, Readiness readiness, ProxyConfig config,
                           java.util.concurrent.atomic.AtomicReference<ClientTimeouts.Settings> timeouts,
                           ClientTls clientTls, ServerTlsResolver serverTls, PeerDirectory peerDirectory,
                           PeerRegistry peers) {
        this.peerDirectory = peerDirectory;
        this.peers = peers;
        this.rotation = rotation;
        this.clientTls = clientTls;
        this.serverTls = serverTls;
        this.readiness = readiness;
        this.started = config;
        this.current = config;
        this.timeouts = timeouts;
        this.authDb = authDb;
        this.kms = kms;
        this.authenticator = authenticator;
        this.proxy = proxy;
        this.poolSettings = poolSettings;
        this.metrics = metrics;
    }

    public static PerseusService start(ProxyConfig config) throws IOException {
        // Certificates first: a bad file stops the start before any pool or port exists.
        ClientTls clientTls;
        ServerTlsResolver serverTls;
        try {
            clientTls = new ClientTls(config.tls().client().load());
            serverTls = ServerTlsResolver.load(config.tls());
        } catch (ConfigException e) {
            throw new IOException(e.getMessage(), e);
        }
        List<SecretDecryptor> decryptors = new ArrayList<>();
        if (config.localKey().configured()) {
            decryptors.add(new LocalKeyCipher(LocalKey.readAll(config.localKey().keyFile())));
        }
        KmsDecryptor kms = null;
        if (config.aws().kmsConfigured()) {
            KmsSettings kmsSettings = config.aws().toKmsSettings();
            kms = KmsDecryptor.connect(kmsSettings);
            decryptors.add(kms);
            log.info("AWS KMS decrypts dest_pass_enc values that are base64: {}", kmsSettings);
        }
        if (decryptors.isEmpty()) {
            log.warn("neither AWSSettings.KMSKeyARN nor LocalKeySettings.KeyFile is set: no dest_pass_enc can be "
                    + "decrypted, so every login will fail after its password check");
        }
        log.info("auth database {}", config.authDb());
        HikariDataSource authDb = new HikariDataSource(config.authDb().toHikariConfig());
        JdbcTenantDirectory directory = new JdbcTenantDirectory(authDb, config.authDb().queryTimeoutSecs());
        SecretDecryptor decryptor = new SecretDecryptors(decryptors);
        CredentialRotation rotation = new CredentialRotation(config.rotation(), authDb,
                config.authDb().queryTimeoutSecs(), directory, decryptor, config.credentialSources(), config.aws());
        ScryptAuthenticator authenticator = new ScryptAuthenticator(
                directory,
                decryptor,
                AuthLimits.withHashChecks(config.client().effectiveMaxConcurrentHashChecks()),
                config.client().newVerifiedLoginCache(),
                rotation::servesExternally,
                config.client().unknownUserAuth());
        PoolSettingsResolver poolSettings = new PoolSettingsResolver(config.poolSettings(),
                config.overrideSettings());
        java.util.concurrent.atomic.AtomicReference<ClientTimeouts.Settings> timeouts =
                new java.util.concurrent.atomic.AtomicReference<>(config.client().timeouts());
        ProxyServer proxy = null;
        Readiness readiness = null;
        ConsoleHost consoleHost = new ConsoleHost(config);
        // Without a metrics endpoint nobody could read the counters: the data path then reports to nothing.
        MetricFamilies families = config.metricsEnabled() ? MetricFamilies.create(config.metrics()) : null;
        PeerRegistry peers = null;
        PeerDirectory peerDirectory = new PeerDirectory();
        poolSettings.peers(peerDirectory);
        try {
            proxy = ProxyServer.start(new ProxyServer.Options(
                    config.listenAddress().toSocketAddress(), rotation.logins(authenticator), poolSettings,
                    config.client().loginTimeout(), config.client().maxMessageBytes(),
                    rotation.credentialSource(), clientTls, serverTls, timeouts::get,
                    config.client().trackExtraParameters(),
                    families == null ? ProxyEvents.NONE : families.events(),
                    new ProxyServer.ConsoleLogins(authenticator, consoleHost::users),
                    () -> consoleHost.config().client().limits()),
                    new ProxyServer.ScaleOut(config.listenReusePort(), peerDirectory,
                            com.perseusproxy.server.config.WorkerThreads.resolve(config.workerThreads())));
            if (config.peers().enabled()) {
                // The live replica count sizes GlobalMaxOpen shares: a change re-applies the pool limits.
                com.perseusproxy.core.pool.PoolRegistry pools = proxy.pools();
                peers = PeerRegistry.start(config.peers(), authDb, config.authDb().queryTimeoutSecs(),
                        new java.net.InetSocketAddress(config.listenAddress().toSocketAddress().getAddress(),
                                proxy.port()), peerDirectory, pools::settingsChanged,
                        () -> poolSettings.budgetUse(pools));
                poolSettings.onMissingAllowance(peers::heartbeatSoon);
            }
            rotation.start(proxy.pools().routes(), config.authDb().toHikariConfig());
            MetricsServer metrics = null;
            if (config.metricsEnabled()) {
                readiness = new Readiness(authDb, config.authDb().queryTimeoutSecs());
                families.registerProxy(proxy.pools(), proxy.clients(), authenticator.verifiedLogins(),
                        rotation::sourceOf);
                metrics = MetricsServer.start(config.metricsAddress().toSocketAddress(), families,
                        BuildInfo.current(), readiness);
                families.registerThrottle(proxy.limits().throttle());
                families.registerPeers(peerDirectory, proxy.pools(), poolSettings);
            } else {
                readiness = new Readiness();
                log.info("MetricsAddress is empty: no /metrics, /health or /ready endpoint");
            }
            PerseusService service = new PerseusService(authDb, kms, authenticator, proxy, poolSettings, metrics,
                    rotation, readiness, config, timeouts, clientTls, serverTls, peerDirectory, peers);
            service.consoleHost = consoleHost;
            consoleHost.attach(service);
            proxy.console().host(consoleHost);
            if (!config.admin().adminUsers().isEmpty() || !config.admin().statsUsers().isEmpty()) {
                log.info("admin console on the client port (databases pgbouncer, perseus): {}", config.admin());
            }
            return service;
        } catch (RuntimeException e) {
            if (peers != null) {
                peers.close();
            }
            if (readiness != null) {
                readiness.close();
            }
            rotation.close();
            if (proxy != null) {
                proxy.close();
            }
            authenticator.close();
            if (kms != null) {
                kms.close();
            }
            authDb.close();
            throw e;
        }
    }

    /** The former name of {@link #reload}, kept for callers that reload only pool settings. */
    public void reloadPoolSettings(ProxyConfig config) {
        reload(config);
    }

    /**
     * Applies a re-read, already validated config (SIGHUP). Live: PoolSettings and OverrideSettings (a raised MaxOpen
     * lets waiters in now; a lowered one closes idle surplus now and leased connections as they are returned), the
     * client timeouts, ShutdownSettings, the log level and the refresh interval. Keys that only a restart can apply
     * are named in a warning. The perseus_auth rows in use are re-read too.
     */
    public synchronized void reload(ProxyConfig config) {
        ProxyConfig previous = current;
        poolSettings.update(config.poolSettings(), config.overrideSettings());
        proxy.pools().settingsChanged();
        timeouts.set(config.client().timeouts());
        if (!config.log().level().equals(previous.log().level())) {
            Logging.setLevel(config.log().level());
        }
        if (!config.rotation().refreshInterval().equals(previous.rotation().refreshInterval())) {
            rotation.refreshInterval(config.rotation().refreshInterval());
        }
        reloadTls(config); // certificate files are re-read here, on the signal thread, never on an event loop
        current = config;
        if (consoleHost != null) {
            consoleHost.configChanged(config); // console users and SHOW CONFIG
        }
        log.info("reloaded pool settings: {} (+{} overrides); client timeouts {}; log level {}; refresh every {} s;"
                        + " drain timeout {} s", config.poolSettings(), config.overrideSettings().size(),
                config.client().timeouts(), config.log().level(), config.rotation().refreshInterval().toSeconds(),
                config.shutdown().drainTimeout().toSeconds());
        java.util.List<String> restartOnly = RestartOnlySettings.changed(started, config);
        if (!restartOnly.isEmpty()) {
            log.warn("changed in the config file but applied only after a restart (the running values stay): {}",
                    String.join(", ", restartOnly));
        }
        rotation.reload(); // SIGHUP also re-reads the credential sources and the perseus_auth rows in use
    }

    /**
     * Re-reads the certificate and key files of a re-read config (SIGHUP) and swaps them in: the next client's
     * SSLRequest and the next backend connection use them, while sessions already encrypted keep theirs. Files that
     * cannot be used are reported, and the TLS settings in force stay (both sides, all or nothing).
     *
     * @return whether the new settings are in force
     */
    public boolean reloadTls(ProxyConfig config) {
        try {
            ClientTls.Settings client = config.tls().client().load();
            serverTls.reload(config.tls());
            clientTls.replace(client);
            log.info("reloaded TLS settings: ClientTLSSettings.SSLMode {}, ServerTLSSettings.SSLMode {} (+{}"
                    + " overrides)", client.mode().configName(), config.tls().server().mode().configName(),
                    config.tls().serverOverrides().size());
            return true;
        } catch (ConfigException e) {
            log.error("reload: keeping the current TLS settings: {}", e.getMessage());
            return false;
        }
    }

    /** A second SIGTERM/SIGINT: stop waiting for transactions in flight. */
    public void forceStop() {
        if (forceStop.compareAndSet(false, true)) {
            log.warn("second stop signal: closing every connection now");
        }
    }

    /**
     * The graceful shutdown (SIGTERM/SIGINT): /ready fails at once, the proxy serves as usual for
     * ShutdownSettings.ReadinessGraceSecs (0 by default) so load balancers notice, then the listening socket closes,
     * idle clients get 57P01, and transactions in flight may finish for up to ShutdownSettings.DrainTimeoutSecs (or
     * until {@link #forceStop}); what remains is then closed with 57P01, and the service stops (GracefulShutdown).
     *
     * @return true if every transaction finished within the drain timeout
     */
    public boolean shutdown() {
        readiness.shuttingDown();
        boolean clean = GracefulShutdown.drain(proxy, current.shutdown(), forceStop::get);
        close();
        log.info("shut down{}", clean ? " cleanly: every transaction finished" : "");
        return clean;
    }

    /** Where the console's RELOAD re-reads the config from (Main: the -config file). */
    public void configSource(java.util.concurrent.Callable<ProxyConfig> source) {
        consoleHost.configSource(() -> {
            try {
                return source.call();
            } catch (com.perseusproxy.core.config.ConfigException e) {
                throw e;
            } catch (Exception e) {
                throw new com.perseusproxy.core.config.ConfigException(e.getMessage());
            }
        });
    }

    /**
     * With {@code WatchConfigFile}, reloads whenever {@code file} changes (edited in place, replaced by a rename, or
     * a Kubernetes ConfigMap's symlink swap), by the same path as SIGHUP.
     *
     * @param reload the SIGHUP path: reads and validates the whole file, keeps the running config if it is invalid
     */
    public synchronized void watchConfigFile(java.nio.file.Path file, Runnable reload) {
        if (started.watchConfigFile() && configWatch == null && !closed.get()) {
            configWatch = ConfigFileWatch.start(file, reload);
        }
    }

    /** What the console's SHUTDOWN triggers instead of {@link #shutdown()} itself (Main's stop path). */
    public void stopRequest(Runnable request) {
        consoleHost.stopRequest(request);
    }

    java.util.List<String[]> rotationRows() {
        return rotation.consoleRows();
    }

    long nextRefreshSeconds() {
        return rotation.nextRefreshSeconds();
    }

    /** The other replicas as this one sees them (cancel forwarding counters, live count). */
    public PeerDirectory peers() {
        return peerDirectory;
    }

    /** The port clients connect to (useful when the config asked for port 0). */
    public int port() {
        return proxy.port();
    }

    /** The metrics port, or -1 when MetricsAddress is empty. */
    public int metricsPort() {
        return metrics == null ? -1 : metrics.port();
    }

    /** The authenticator (its scrypt and verified-login counters). */
    public ScryptAuthenticator authenticator() {
        return authenticator;
    }

    public ProxyServer proxy() {
        return proxy;
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        readiness.shuttingDown();
        if (configWatch != null) {
            configWatch.close();
        }
        readiness.close();
        rotation.close();
        if (metrics != null) {
            metrics.close();
        }
        proxy.close();
        if (peers != null) {
            peers.close(); // after the drain: the others take over this replica's budget share only now
        }
        authenticator.close();
        if (kms != null) {
            kms.close();
        }
        authDb.close();
    }
}
