package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.nio.file.Path;
import java.util.Map;

/** Proxies for the TLS tests: the usual test config plus TLS sections, each proxy started and closed by its test. */
final class TlsProxies {

    private TlsProxies() {
    }

    /** The shared test database's perseus_auth. */
    static String sharedAuthDsn() {
        TestPostgres pg = Fixtures.postgres();
        return "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=2"
                .formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB);
    }

    /**
     * The config text.
     *
     * @param extraSections more top-level sections, as JSON text starting with a comma
     */
    static String config(String authDsn, String extraSections) {
        return """
                {
                  "ListenAddress": "127.0.0.1:0",
                  "AuthDBSettings": { "AuthDBDSN": "%s", "AuthQueryTimeoutSecs": 5 },
                  "PoolSettings": { "MaxIdle": 2, "MaxOpen": 2, "ConnCreateTimeoutSecs": 5,
                                    "QueryWaitTimeoutSecs": 30 },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "LogSettings": { "Level": "INFO", "Json": false }%s
                }
                """.formatted(authDsn, json(Fixtures.localKeyFile()), extraSections);
    }

    static PerseusService start(String authDsn, String extraSections) {
        try {
            return PerseusService.start(ProxyConfig.parse(config(authDsn, extraSections), Map.of()));
        } catch (Exception e) {
            throw new IllegalStateException("could not start a proxy under test: " + e.getMessage(), e);
        }
    }

    static ProxyConfig parse(String authDsn, String extraSections) throws Exception {
        return ProxyConfig.parse(config(authDsn, extraSections), Map.of());
    }

    /** A path as the inside of a JSON string. */
    static String json(Path path) {
        return path.toString().replace("\\", "\\\\").replace("\"", "\\\"");
    }

    /** {@code , "ClientTLSSettings": {...}} for this mode and certificate. */
    static String clientTls(String mode, TlsCertificates.Pair pair) {
        return ", \"ClientTLSSettings\": { \"SSLMode\": \"" + mode + "\", \"CertFile\": \"" + json(pair.cert())
                + "\", \"KeyFile\": \"" + json(pair.key()) + "\" }";
    }
}
