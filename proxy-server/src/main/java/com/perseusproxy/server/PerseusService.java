package com.perseusproxy.server;

import com.perseusproxy.core.auth.AuthLimits;
import com.perseusproxy.core.auth.ScryptAuthenticator;
import com.perseusproxy.core.secrets.KmsDecryptor;
import com.perseusproxy.core.secrets.KmsSettings;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.secrets.SecretDecryptors;
import com.perseusproxy.core.tenant.JdbcTenantDirectory;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.metrics.BuildInfo;
import com.perseusproxy.server.metrics.MetricsServer;
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

    private PerseusService(HikariDataSource authDb, KmsDecryptor kms, ScryptAuthenticator authenticator,
                           ProxyServer proxy, PoolSettingsResolver poolSettings, MetricsServer metrics,
                           CredentialRotation rotation) {
        this.rotation = rotation;
        this.authDb = authDb;
        this.kms = kms;
        this.authenticator = authenticator;
        this.proxy = proxy;
        this.poolSettings = poolSettings;
        this.metrics = metrics;
    }

    public static PerseusService start(ProxyConfig config) throws IOException {
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
                rotation::servesExternally);
        PoolSettingsResolver poolSettings = new PoolSettingsResolver(config.poolSettings(),
                config.overrideSettings());
        ProxyServer proxy = null;
        try {
            proxy = ProxyServer.start(new ProxyServer.Options(
                    config.listenAddress().toSocketAddress(), rotation.logins(authenticator), poolSettings,
                    config.client().loginTimeout(), config.client().maxMessageBytes(),
                    rotation.credentialSource()));
            rotation.start(proxy.pools().routes(), config.authDb().toHikariConfig());
            MetricsServer metrics = null;
            if (config.metricsEnabled()) {
                metrics = MetricsServer.start(config.metricsAddress().toSocketAddress(), proxy.pools(),
                        BuildInfo.current(), rotation::sourceOf);
            } else {
                log.info("MetricsAddress is empty: no /metrics or /health endpoint");
            }
            return new PerseusService(authDb, kms, authenticator, proxy, poolSettings, metrics, rotation);
        } catch (RuntimeException e) {
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

    /**
     * Applies the pool settings of a re-read config (what Perseus reloads on SIGHUP): PoolSettings and
     * OverrideSettings. Open connections stay; pools shrink as connections are returned. Other keys need a restart.
     */
    public void reloadPoolSettings(ProxyConfig config) {
        poolSettings.update(config.poolSettings(), config.overrideSettings());
        log.info("reloaded pool settings: {} (+{} overrides)", config.poolSettings(),
                config.overrideSettings().size());
        rotation.reload(); // SIGHUP also re-reads the credential sources and the perseus_auth rows in use
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
        rotation.close();
        if (metrics != null) {
            metrics.close();
        }
        proxy.close();
        authenticator.close();
        if (kms != null) {
            kms.close();
        }
        authDb.close();
    }
}
