package com.perseusproxy.server;

import com.perseusproxy.core.auth.AuthLimits;
import com.perseusproxy.core.auth.ScryptAuthenticator;
import com.perseusproxy.core.secrets.LocalKey;
import com.perseusproxy.core.secrets.LocalKeyCipher;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.secrets.SecretDecryptors;
import com.perseusproxy.core.tenant.JdbcTenantDirectory;
import com.perseusproxy.server.config.ProxyConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole service assembled from a {@link ProxyConfig}: the auth-database pool, the tenant directory, the secret
 * decryptors, the authenticator and the listening proxy. Closing it stops them in reverse order.
 */
public final class PerseusService implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PerseusService.class);

    private final HikariDataSource authDb;
    private final ScryptAuthenticator authenticator;
    private final ProxyServer proxy;
    private final PoolSettingsResolver poolSettings;
    private final CredentialRotation rotation;

    private PerseusService(HikariDataSource authDb, ScryptAuthenticator authenticator, ProxyServer proxy,
                           PoolSettingsResolver poolSettings, CredentialRotation rotation) {
        this.rotation = rotation;
        this.authDb = authDb;
        this.authenticator = authenticator;
        this.proxy = proxy;
        this.poolSettings = poolSettings;
    }

    public static PerseusService start(ProxyConfig config) throws IOException {
        List<SecretDecryptor> decryptors = new ArrayList<>();
        if (config.localKey().configured()) {
            decryptors.add(new LocalKeyCipher(LocalKey.readAll(config.localKey().keyFile())));
        }
        log.info("auth database {}", config.authDb());
        HikariDataSource authDb = new HikariDataSource(config.authDb().toHikariConfig());
        JdbcTenantDirectory directory = new JdbcTenantDirectory(authDb, config.authDb().queryTimeoutSecs());
        SecretDecryptor decryptor = new SecretDecryptors(decryptors);
        CredentialRotation rotation = new CredentialRotation(config.rotation(), authDb,
                config.authDb().queryTimeoutSecs(), directory, decryptor, config.credentialCommands());
        ScryptAuthenticator authenticator = new ScryptAuthenticator(
                directory,
                decryptor,
                AuthLimits.withHashChecks(config.client().effectiveMaxConcurrentHashChecks()));
        PoolSettingsResolver poolSettings = new PoolSettingsResolver(config.poolSettings(),
                config.overrideSettings());
        try {
            ProxyServer proxy = ProxyServer.start(new ProxyServer.Options(
                    config.listenAddress().toSocketAddress(), rotation.logins(authenticator), poolSettings,
                    config.client().loginTimeout(), config.client().maxMessageBytes(),
                    rotation.credentialSource()));
            rotation.start(proxy.pools().routes(), config.authDb().toHikariConfig());
            return new PerseusService(authDb, authenticator, proxy, poolSettings, rotation);
        } catch (RuntimeException e) {
            rotation.close();
            authenticator.close();
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
        rotation.refreshNow(); // SIGHUP also re-reads the perseus_auth rows in use
    }

    /** The port clients connect to (useful when the config asked for port 0). */
    public int port() {
        return proxy.port();
    }

    public ProxyServer proxy() {
        return proxy;
    }

    @Override
    public void close() {
        rotation.close();
        proxy.close();
        authenticator.close();
        authDb.close();
    }
}
