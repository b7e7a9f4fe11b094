package com.perseusproxy.server;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.config.ConfigException;
import com.perseusproxy.core.tls.BackendTls;
import com.perseusproxy.server.config.ServerTlsSettings;
import com.perseusproxy.server.config.TlsSettings;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Chooses a destination's backend TLS: the {@code ServerTLSSettings} of the {@code OverrideSettings} entry named
 * {@code dest_host/dest_db} (with or without the port, matched as {@link PoolSettingsResolver} matches), else the
 * top-level {@code ServerTLSSettings}. The root certificates are read when the settings are loaded (start-up, SIGHUP),
 * so the event loop only looks up a ready context.
 */
final class ServerTlsResolver implements Function<Destination, BackendTls> {

    private record Loaded(BackendTls defaults, Map<String, BackendTls> overrides) {
    }

    /** Replaced whole on reload; connections opened from then on use the new settings. */
    private volatile Loaded loaded;

    private ServerTlsResolver(Loaded loaded) {
        this.loaded = loaded;
    }

    /** Reads every root-certificate file the settings name; blocking. */
    static ServerTlsResolver load(TlsSettings settings) throws ConfigException {
        return new ServerTlsResolver(read(settings));
    }

    /** Swaps in re-read settings, or throws and keeps the current ones. */
    void reload(TlsSettings settings) throws ConfigException {
        loaded = read(settings);
    }

    private static Loaded read(TlsSettings settings) throws ConfigException {
        BackendTls defaults = settings.server().load("ServerTLSSettings");
        Map<String, BackendTls> overrides = new HashMap<>();
        for (Map.Entry<String, ServerTlsSettings> entry : settings.serverOverrides().entrySet()) {
            overrides.put(entry.getKey(), entry.getValue().load("OverrideSettings[\"" + entry.getKey()
                    + "\"].ServerTLSSettings"));
        }
        return new Loaded(defaults, Map.copyOf(overrides));
    }

    @Override
    public BackendTls apply(Destination destination) {
        Loaded current = loaded;
        BackendTls withPort = current.overrides().get(destination.host() + ":" + destination.port() + "/"
                + destination.database());
        if (withPort != null) {
            return withPort;
        }
        if (destination.port() == Destination.DEFAULT_PORT) {
            return current.overrides().getOrDefault(destination.host() + "/" + destination.database(),
                    current.defaults());
        }
        return current.defaults();
    }
}
