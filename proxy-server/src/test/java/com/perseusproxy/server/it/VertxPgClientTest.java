package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Tuple;
import io.vertx.pgclient.PgBuilder;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * vertx-pg-client 4.5 with its default options, in process: every {@code preparedQuery(sql).execute(tuple)} outside a
 * transaction sends {@code Parse("")/Describe/Sync} and then {@code Bind("")/Execute/Sync} as a second group, which
 * failed with 26000 through the proxy while the backend was released (or re-pointed) between the two. Two tenants
 * alternate on a proxy whose pool has a single backend, so every query of one tenant follows the other tenant's on the
 * same server session; each result must name its own tenant. Passes against PostgreSQL too
 * ({@code -Dperseus.it.direct=true}).
 */
class VertxPgClientTest {

    private static PerseusService proxy;
    private static Vertx vertx;

    @BeforeAll
    static void start() {
        if (!Boolean.getBoolean("perseus.it.direct")) {
            proxy = TestProxy.startDedicated(1);
        }
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        if (proxy != null) {
            proxy.close();
        }
    }

    @Test
    void defaultPreparedQueriesOfTwoTenantsAlternatingOnOneBackend() throws Exception {
        runAlternating(false);
    }

    @Test
    void cachedPreparedStatementsOfTwoTenantsAlternatingOnOneBackend() throws Exception {
        runAlternating(true);
    }

    private static void runAlternating(boolean cachePreparedStatements) throws Exception {
        Pool a = pool(Fixtures.TENANT_A, cachePreparedStatements);
        Pool b = pool(Fixtures.TENANT_B, cachePreparedStatements);
        try {
            for (int n = 0; n < 10; n++) {
                int i = n;
                // Started together, so the other tenant's query takes the one backend between this one's two groups.
                Future<String> fromA = schemaTimesTwo(a, i);
                Future<String> fromB = schemaTimesTwo(b, i);
                assertEquals("tenant_a " + (2 * i), await(fromA));
                assertEquals("tenant_b " + (2 * i + 1), await(fromB));
                // In a transaction too: there the backend is held, as for every driver.
                assertEquals("tenant_a " + (4 * i), await(a.withTransaction(c ->
                        c.preparedQuery("select current_schema() || ' ' || ($1::int * 4)::text")
                                .execute(Tuple.of(i)).map(rows -> rows.iterator().next().getString(0)))));
            }
        } finally {
            await(a.close());
            await(b.close());
        }
    }

    /** The tenant's schema and 2 * value (+ 1 for tenant_b's rows, so a mix-up shows in the number as well). */
    private static Future<String> schemaTimesTwo(Pool pool, int value) {
        return pool.preparedQuery(
                "select current_schema() || ' ' || ($1::int * 2 + (current_schema() = 'tenant_b')::int)::text")
                .execute(Tuple.of(value)).map(rows -> rows.iterator().next().getString(0));
    }

    private static Pool pool(SampleTenant tenant, boolean cachePreparedStatements) {
        Target target = proxy == null ? Targets.direct(tenant) : Targets.viaProxy(tenant, "127.0.0.1", proxy.port());
        PgConnectOptions options = new PgConnectOptions()
                .setHost(target.host()).setPort(target.port()).setDatabase(target.database())
                .setUser(target.user()).setPassword(target.password())
                .setCachePreparedStatements(cachePreparedStatements)
                .setProperties(Map.of("search_path", target.searchPath(), "application_name", "perseus-it-vertx"));
        return PgBuilder.pool().with(new PoolOptions().setMaxSize(2)).connectingTo(options).using(vertx).build();
    }

    private static <T> T await(Future<T> future) throws Exception {
        return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
}
