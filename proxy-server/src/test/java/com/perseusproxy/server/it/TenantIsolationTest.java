package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import com.perseusproxy.server.PerseusService;
import java.util.function.Function;

/**
 * Two tenants whose schemas hold the same table name, hammered concurrently so that (through the proxy) their
 * transactions keep landing on each other's backend connections. Every row of a tenant's {@code notes} starts with
 * its schema name, so one glance at "which prefixes can I see" proves isolation; each transaction also sees its own
 * fresh insert, proving it runs where it wrote.
 */
class TenantIsolationTest {

    private static final int THREADS = 8;
    private static final int TRANSACTIONS_PER_THREAD = 150;
    private static final String RUN = "iso-" + Long.toHexString(System.nanoTime());

    /** The issue's bar: 1,000+ interleaved transactions of two tenants on a pool of two backend connections. */
    private static final int SMALL_POOL = 2;

    @Test
    void interleavedTransactionsOnlySeeTheirOwnTenant() throws Exception {
        if (!Targets.viaProxy()) {
            runInterleaved(Targets::forTenant);
            return;
        }
        try (PerseusService proxy = TestProxy.startDedicated(SMALL_POOL)) {
            runInterleaved(tenant -> Targets.viaProxy(tenant, "127.0.0.1", proxy.port()));
            // Every transaction really went through the two shared connections.
            assertTrue(proxy.proxy().pools().pools().stream().allMatch(p -> p.stats().openedTotal() <= SMALL_POOL));
        }
    }

    private void runInterleaved(Function<SampleTenant, Target> targets) throws Exception {
        AtomicInteger done = new AtomicInteger();
        List<Callable<Void>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            SampleTenant tenant = t % 2 == 0 ? Fixtures.TENANT_A : Fixtures.TENANT_B;
            // Half the workers use the simple protocol, half the extended one.
            String mode = (t / 2) % 2 == 0 ? "simple" : "extended";
            int worker = t;
            workers.add(() -> {
                runTransactions(targets.apply(tenant), tenant, mode, worker, done);
                return null;
            });
        }
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            for (Future<Void> f : pool.invokeAll(workers, 120, TimeUnit.SECONDS)) {
                f.get(); // rethrows the first worker failure with its assertion message
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(THREADS * TRANSACTIONS_PER_THREAD, done.get());
    }

    private static void runTransactions(Target target, SampleTenant tenant, String mode, int worker,
                                        AtomicInteger done) throws SQLException {
        String own = tenant.schema();
        try (Connection c = target.connect("preferQueryMode", mode);
             PreparedStatement insert = c.prepareStatement("insert into notes (body) values (?) returning id");
             PreparedStatement visible = c.prepareStatement(
                     "select current_schema(), (select count(*) from notes where id = ? and body = ?),"
                             + " (select string_agg(distinct split_part(body, ':', 1), ',') from notes)")) {
            c.setAutoCommit(false);
            for (int i = 0; i < TRANSACTIONS_PER_THREAD; i++) {
                String body = Fixtures.body(tenant, RUN + " w" + worker + " #" + i);
                long id;
                insert.setString(1, body);
                try (ResultSet rs = insert.executeQuery()) {
                    rs.next();
                    id = rs.getLong(1);
                }
                visible.setLong(1, id);
                visible.setString(2, body);
                try (ResultSet rs = visible.executeQuery()) {
                    rs.next();
                    String where = own + " worker " + worker + " transaction " + i;
                    assertEquals(own, rs.getString(1), where + ": current_schema");
                    assertEquals(1, rs.getInt(2), where + ": its own insert");
                    assertEquals(own, rs.getString(3), where + ": the tenants whose rows it can see");
                }
                // Alternate outcomes so rollbacks are interleaved with commits.
                if (i % 5 == 4) {
                    c.rollback();
                } else {
                    c.commit();
                }
                done.incrementAndGet();
            }
        }
    }

    @AfterAll
    static void removeRows() {
        for (SampleTenant tenant : List.of(Fixtures.TENANT_A, Fixtures.TENANT_B)) {
            Fixtures.postgres().execute(TestPostgres.APP_DB, "delete from " + tenant.schema()
                    + ".notes where body like '" + Fixtures.body(tenant, RUN) + "%'");
        }
    }

    @Test
    void committedRowsLandInTheRightSchema() throws SQLException {
        // Seen by the superuser, straight from PostgreSQL: a wrong-schema write would show up here even if the
        // client could not see it.
        String body = RUN + " placement";
        for (SampleTenant tenant : List.of(Fixtures.TENANT_A, Fixtures.TENANT_B)) {
            try (Connection c = Targets.forTenant(tenant).connect();
                 PreparedStatement ps = c.prepareStatement("insert into notes (body) values (?)")) {
                ps.setString(1, Fixtures.body(tenant, body));
                ps.executeUpdate();
            }
        }
        TestPostgres pg = Fixtures.postgres();
        for (SampleTenant tenant : List.of(Fixtures.TENANT_A, Fixtures.TENANT_B)) {
            assertEquals(0, pg.queryLong(TestPostgres.APP_DB, "select count(*) from " + tenant.schema()
                    + ".notes where body not like '" + tenant.schema() + ":%'"), tenant + " holds only its rows");
            assertTrue(pg.queryLong(TestPostgres.APP_DB, "select count(*) from " + tenant.schema()
                    + ".notes where body = '" + Fixtures.body(tenant, body) + "'") == 1, tenant + " got its row");
        }
    }
}
