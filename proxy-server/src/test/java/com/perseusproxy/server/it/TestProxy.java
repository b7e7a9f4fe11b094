package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import java.util.Map;

/**
 * The proxy under test: one shared instance per JVM, started on first use on a free loopback port, configured exactly
 * as an operator would (a Perseus JSON config) against the shared {@link TestPostgres} and the suite's local key.
 * Tests that need other limits start a dedicated instance with {@link #startDedicated} and close it themselves.
 */
public final class TestProxy {

    public static final int MAX_OPEN = 5;

    private static PerseusService shared;

    private TestProxy() {
    }

    public static synchronized PerseusService get() {
        if (shared == null) {
            shared = startDedicated(MAX_OPEN);
            PerseusService service = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(service::close));
        }
        return shared;
    }

    public static int port() {
        return get().port();
    }

    /** A proxy of its own with this pool size, for tests that need a small pool; the caller closes it. */
    public static PerseusService startDedicated(int maxOpen) {
        TestPostgres pg = Fixtures.postgres();
        return startDedicated(maxOpen, "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=4"
                .formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB));
    }

    /** A proxy of its own with this pool size and auth database; the caller closes it. */
    public static PerseusService startDedicated(int maxOpen, String authDsn) {
        return start(maxOpen, authDsn, "");
    }

    /** A proxy of its own with this pool size and PoolSettings.MaxPreparedStatements; the caller closes it. */
    public static PerseusService startDedicatedWithMaxPreparedStatements(int maxOpen, int maxPreparedStatements) {
        TestPostgres pg = Fixtures.postgres();
        return start(maxOpen, "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=4"
                .formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB),
                ", \"MaxPreparedStatements\": " + maxPreparedStatements);
    }

    /**
     * {@code -Dperseus.test.workerThreads=N} runs every proxy started here with N data loops (as the operator's
     * {@code PERSEUS_WORKERTHREADS} would), so any suite can be run against the multi-loop proxy.
     */
    static Map<String, String> workerThreadsOverride() {
        String loops = System.getProperty("perseus.test.workerThreads", "");
        return loops.isBlank() ? Map.of() : Map.of("PERSEUS_WORKERTHREADS", loops.strip());
    }

    /** @param extraPoolSettings more PoolSettings keys, as JSON text starting with a comma */
    private static PerseusService start(int maxOpen, String authDsn, String extraPoolSettings) {
        Fixtures.postgres();
        String json = """
                {
                  "ListenAddress": "127.0.0.1:0",
                  "AuthDBSettings": { "AuthDBDSN": "%s", "AuthQueryTimeoutSecs": 5 },
                  "PoolSettings": { "MaxIdle": %d, "MaxOpen": %d, "MaxLifetimeSecs": 3600, "MaxIdletimeSecs": 300,
                                    "ConnCreateTimeoutSecs": 5, "ConnCloseTimeoutSecs": 1,
                                    "SchemaExecTimeoutSecs": 5, "QueryWaitTimeoutSecs": 60%s },
                  "LocalKeySettings": { "KeyFile": "%s" },
                  "LogSettings": { "Level": "INFO", "Json": false }
                }
                """.formatted(authDsn, maxOpen, maxOpen, extraPoolSettings,
                Fixtures.localKeyFile().toString().replace("\\", "\\\\"));
        try {
            return PerseusService.start(ProxyConfig.parse(json, workerThreadsOverride()));
        } catch (Exception e) {
            throw new IllegalStateException("could not start a proxy under test: " + e.getMessage(), e);
        }
    }
}
