package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.util.Map;

/**
 * The proxy under test: one per JVM, started on first use on a free loopback port, configured exactly as an
 * operator would (a Perseus JSON config) against the shared {@link TestPostgres} and the suite's local key.
 */
public final class TestProxy {

    public static final int MAX_OPEN = 5;

    private static PerseusService service;

    private TestProxy() {
    }

    public static synchronized PerseusService get() {
        if (service == null) {
            service = start(MAX_OPEN, -1);
            Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        }
        return service;
    }

    /**
     * A separate proxy instance for tests that need other pool settings (the caller closes it).
     *
     * @param maxPreparedStatements PoolSettings.MaxPreparedStatements, or -1 for the default
     */
    public static PerseusService startDedicated(int maxOpen, int maxPreparedStatements) {
        return start(maxOpen, maxPreparedStatements);
    }

    private static PerseusService start(int maxOpen, int maxPreparedStatements) {
        TestPostgres pg = Fixtures.postgres();
        String prepared = maxPreparedStatements < 0 ? "" : ", \"MaxPreparedStatements\": " + maxPreparedStatements;
        String json = """
                {
                  "ListenAddress": "127.0.0.1:0",
                  "AuthDBSettings": {
                    "AuthDBDSN": "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=4",
                    "AuthQueryTimeoutSecs": 5
                  },
                  "PoolSettings": { "MaxIdle": 5, "MaxOpen": %d, "MaxLifetimeSecs": 3600, "MaxIdletimeSecs": 300,
                                    "ConnCreateTimeoutSecs": 5, "ConnCloseTimeoutSecs": 1,
                                    "SchemaExecTimeoutSecs": 5, "QueryWaitTimeoutSecs": 60%s },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "LogSettings": { "Level": "INFO", "Json": false }
                }
                """.formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB, maxOpen, prepared,
                Fixtures.localKeyFile().toString().replace("\\", "\\\\"));
        try {
            return PerseusService.start(ProxyConfig.parse(json, Map.of()));
        } catch (Exception e) {
            throw new IllegalStateException("could not start the proxy under test: " + e.getMessage(), e);
        }
    }

    public static int port() {
        return get().port();
    }
}
