package com.perseusproxy.server.it;

import com.perseusproxy.server.demo.SampleDatabase;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two tenants of the driver suite ({@code Driver*Test}). Their same-named tables differ in shape, so a statement,
 * a row description or a cached plan that crosses from one tenant to the other fails loudly instead of returning
 * plausible rows:
 * <ul>
 *   <li>{@code drv_a.items (id int, a text)}, rows {@code (n, 'drv_a-n')};</li>
 *   <li>{@code drv_b.items (id int, b_value numeric, extra text)}, rows {@code (n, n + 0.5, 'drv_b-n')};</li>
 * </ul>
 * for n = 1..{@link #ITEMS}. Every driver program computes the expected row from the tenant's schema name and the id,
 * so nothing is hard-coded on either side. Programs create their own scratch tables ({@code <driver>_...}).
 */
final class DriverTenants {

    /**
     * The database the driver programs name. Their perseus_auth rows point at the schemas in {@code appdb}, but under
     * a source database of their own, as other tests' rows do, so the fixture's rows stay exactly those of
     * {@link Fixtures#ALL} (see SampleDatabaseTest).
     */
    static final String SOURCE_DB = "drivers";
    static final SampleTenant A = new SampleTenant(SOURCE_DB, "drv_a", "drv_alice", "drv-alice-secret-7");
    static final SampleTenant B = new SampleTenant(SOURCE_DB, "drv_b", "drv_bob", "drv-bob-secret-8");
    static final int ITEMS = 100;

    private static boolean installed;

    private DriverTenants() {
    }

    static synchronized void install() {
        TestPostgres pg = Fixtures.postgres();
        if (installed) {
            return;
        }
        try (Connection auth = pg.superuserConnection(TestPostgres.AUTH_DB);
             Connection app = pg.superuserConnection(TestPostgres.APP_DB)) {
            SampleDatabase.install(auth, app, Fixtures.backend(), List.of(A, B), Fixtures::hashPassword,
                    Fixtures::encryptBackendPassword);
        } catch (SQLException e) {
            throw new IllegalStateException("could not install the driver tenants: " + e.getMessage(), e);
        }
        String owner = TestPostgres.APP_OWNER.name();
        pg.execute(TestPostgres.APP_DB,
                "drop table if exists drv_a.items",
                "create table drv_a.items (id int primary key, a text not null)",
                "insert into drv_a.items select g, 'drv_a-' || g from generate_series(1, " + ITEMS + ") g",
                "alter table drv_a.items owner to " + owner,
                "drop table if exists drv_b.items",
                "create table drv_b.items (id int primary key, b_value numeric not null, extra text not null)",
                "insert into drv_b.items select g, g + 0.5, 'drv_b-' || g from generate_series(1, " + ITEMS + ") g",
                "alter table drv_b.items owner to " + owner);
        installed = true;
    }

    /** The row {@code select * from items where id = <id>} returns in the tenant, as strings, column by column. */
    static List<String> expectedItem(SampleTenant tenant, int id) {
        if (tenant.equals(A)) {
            return List.of(String.valueOf(id), tenant.schema() + "-" + id);
        }
        return List.of(String.valueOf(id), id + ".5", tenant.schema() + "-" + id);
    }

    /** n item ids spread over 1..ITEMS. */
    static int[] itemIds(int n, int offset) {
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = (i * 37 + offset) % ITEMS + 1;
        }
        return ids;
    }

    static final String ITEM_SQL = "select * from items where id = $1";
    static final int POOL_SIZE = 20;
    static final int TIMEOUT_MS = 300;

    /** Where a client of the tenant connects: the proxy, or PostgreSQL with {@code -Dperseus.it.direct=true}. */
    static Target target(SampleTenant tenant) {
        install();
        Target target = Targets.forTenant(tenant);
        // PostgreSQL itself only has the backend database.
        return Targets.viaProxy() ? target : target.withDatabase(TestPostgres.APP_DB);
    }

    /**
     * The environment every driver program reads: where to connect, both tenants' credentials and schemas, the
     * number of items, and the startup parameter that names the schema in Perseus's DSN shape
     * ({@code schema_search_path}; PostgreSQL itself only knows {@code search_path}).
     */
    static Map<String, String> programEnv() {
        Target a = target(A);
        Target b = target(B);
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DRV_HOST", a.host());
        env.put("DRV_PORT", String.valueOf(a.port()));
        env.put("DRV_DATABASE", a.database());
        put(env, "DRV_A_", a);
        put(env, "DRV_B_", b);
        env.put("DRV_ITEMS", String.valueOf(ITEMS));
        env.put("DRV_VIA_PROXY", String.valueOf(Targets.viaProxy()));
        env.put("DRV_SCHEMA_PARAM", Targets.viaProxy() ? "schema_search_path" : "search_path");
        env.put("DRV_MAX_OPEN", String.valueOf(TestProxy.MAX_OPEN));
        env.put("PGTZ", "UTC");
        env.put("PGPASSFILE", "/dev/null");
        return env;
    }

    private static void put(Map<String, String> env, String prefix, Target t) {
        env.put(prefix + "USER", t.user());
        env.put(prefix + "PASSWORD", t.password());
        env.put(prefix + "SCHEMA", t.schema());
    }
}
