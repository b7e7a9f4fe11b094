package com.perseusproxy.server.config;

import java.util.Map;

/**
 * The TLS sections of the config: {@code ClientTLSSettings}, {@code ServerTLSSettings} and the
 * {@code ServerTLSSettings} of {@code OverrideSettings} entries (keyed by entry name, already merged with the
 * top-level section: an entry names only what differs).
 */
public record TlsSettings(ClientTlsSettings client, ServerTlsSettings server,
                          Map<String, ServerTlsSettings> serverOverrides) {

    public static final TlsSettings DEFAULTS = new TlsSettings(ClientTlsSettings.DISABLED, ServerTlsSettings.DEFAULT,
            Map.of());

    public TlsSettings {
        serverOverrides = Map.copyOf(serverOverrides);
    }
}
