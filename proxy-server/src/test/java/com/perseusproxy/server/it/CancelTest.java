package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Query cancellation: pgjdbc's {@code Statement.cancel()} sends a CancelRequest on a new connection with the key from
 * BackendKeyData. Through the proxy that key is the proxy's, which must reach exactly the backend running that
 * client's query, and nothing else.
 */
class CancelTest {

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended"})
    void longQueryIsCancelledQuickly(String mode) throws Exception {
        try (Connection c = Targets.forTenant(Fixtures.TENANT_A).connect("preferQueryMode", mode);
             Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("select 1"); // the transaction (and, through the proxy, its backend lease) has begun
            CompletableFuture<Long> sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    st.execute("select pg_sleep(30)");
                    throw new AssertionError("pg_sleep(30) was not cancelled");
                } catch (SQLException e) {
                    assertEquals("57014", e.getSQLState(), "query_canceled: " + e.getMessage());
                    return System.nanoTime();
                }
            });
            awaitRunning("pg_sleep(30)");
            long cancelledAt = System.nanoTime();
            st.cancel();
            long failedAt = getWithin(sleeping, 5);
            long millis = TimeUnit.NANOSECONDS.toMillis(failedAt - cancelledAt);
            assertTrue(millis < 2_000, "cancel took " + millis + " ms");

            SQLException aborted = assertThrows(SQLException.class, () -> st.execute("select 1"));
            assertEquals("25P02", aborted.getSQLState(), "the cancelled transaction is aborted");
            c.rollback();
            try (ResultSet rs = st.executeQuery("select current_schema()")) {
                rs.next();
                assertEquals(Fixtures.TENANT_A.schema(), rs.getString(1), "the session works after the cancel");
            }
        }
    }

    @Test
    void staleOrBogusCancelKeysCancelNothing() throws Exception {
        // Client X runs a transaction and goes idle; through the proxy its backend goes back to the pool and may serve
        // client Y next. A cancel with X's key must then not reach Y's query, nor may a made-up key.
        Target x = Targets.forTenant(Fixtures.TENANT_A);
        try (PgWire idle = PgWire.open(x);
             Connection y = Targets.forTenant(Fixtures.TENANT_B).connect();
             Statement st = y.createStatement()) {
            PgWire.Login login = idle.login(x);
            assertEquals(List.of(Fixtures.TENANT_A.schema()), idle.queryColumn("select current_schema()"));

            CompletableFuture<Boolean> sleeping = CompletableFuture.supplyAsync(() -> {
                try (ResultSet rs = st.executeQuery("select pg_sleep(1.5) is not null")) {
                    return rs.next() && rs.getBoolean(1);
                } catch (SQLException e) {
                    throw new AssertionError("an unrelated cancel reached this query: " + e.getMessage(), e);
                }
            });
            awaitRunning("pg_sleep(1.5)");
            PgWire.cancel(x.host(), x.port(), login.backendPid(), login.cancelKey());
            PgWire.cancel(x.host(), x.port(), login.backendPid(), login.cancelKey() ^ 0x5a5a5a5a);
            PgWire.cancel(x.host(), x.port(), 1, 1);
            assertTrue(getWithin(sleeping, 10));
            assertEquals(List.of("1"), idle.queryColumn("select 1"), "X itself was not harmed either");
            idle.terminate();
        }
    }

    /** Waits until PostgreSQL shows the query running, so the cancel cannot overtake it. */
    private static void awaitRunning(String call) {
        TestPostgres pg = Fixtures.postgres();
        long deadline = System.currentTimeMillis() + 5_000;
        while (pg.queryLong(TestPostgres.APP_DB, "select count(*) from pg_stat_activity where state = 'active'"
                + " and query like '%" + call.replace("'", "''") + "%' and pid <> pg_backend_pid()") == 0) {
            assertTrue(System.currentTimeMillis() < deadline, call + " never started");
            TestPostgres.sleep(20);
        }
    }

    private static <T> T getWithin(CompletableFuture<T> future, int seconds) throws Exception {
        try {
            return future.get(seconds, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof AssertionError a) {
                throw a;
            }
            throw e;
        }
    }
}
