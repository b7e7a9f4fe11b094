package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * A client that vanishes in the middle of a transaction must not leave locks or an open transaction behind. Each test
 * takes a transaction-scoped advisory lock with a fresh key (plus, in one case, a row lock), kills the client, and
 * polls PostgreSQL as superuser until the lock and every "idle in transaction" session are gone.
 *
 * <p>Straight to PostgreSQL the backend notices the closed socket by itself. Through the proxy the backend socket
 * stays open, so the proxy must roll the transaction back (CopyFail in COPY, a cancel for a running query) and must
 * not return that backend to the pool dirty.
 */
class KilledClientTest {

    private static final long DEADLINE_MILLIS = 10_000;
    /** The notes row the row-lock test locks. */
    private static long lockedRowId;

    @BeforeAll
    static void pickRow() {
        lockedRowId = Fixtures.postgres().queryLong(TestPostgres.APP_DB, "select min(id) from tenant_a.notes");
        Fixtures.postgres().execute(TestPostgres.APP_DB,
                "create table if not exists tenant_a.killed_copy (id int, payload text)");
        Fixtures.postgres().execute(TestPostgres.APP_DB, "alter table tenant_a.killed_copy owner to app_owner");
    }

    @AfterAll
    static void dropTable() {
        Fixtures.postgres().execute(TestPostgres.APP_DB, "drop table if exists tenant_a.killed_copy");
    }

    @Test
    void abortedPgjdbcConnectionReleasesRowAndAdvisoryLocks() throws Exception {
        int key = freshKey();
        Connection c = connect();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("select pg_advisory_xact_lock(" + key + ")");
            st.execute("select id from notes where id = " + lockedRowId + " for update");
        }
        assertTrue(advisoryLockHeld(key));
        assertTrue(rowLocked());
        c.abort(Runnable::run); // closes the socket without Terminate
        awaitClean(key);
        assertFalse(rowLocked(), "the row lock is gone");
    }

    @Test
    void killedPsqlReleasesItsLock() throws Exception {
        Target target = Targets.forTenant(Fixtures.TENANT_A);
        PgTools.require("psql");
        int key = freshKey();
        Process psql = PgTools.start(PgTools.psql(target), target);
        try {
            OutputStream stdin = psql.getOutputStream();
            // psql executes each statement as soon as it has read it; stdin stays open, so psql waits for more.
            stdin.write(("begin;\nselect pg_advisory_xact_lock(" + key + ");\n").getBytes(StandardCharsets.UTF_8));
            stdin.flush();
            awaitTrue(() -> advisoryLockHeld(key), "psql took the lock");
            psql.destroyForcibly(); // SIGKILL: the kernel closes the socket, psql says nothing
            assertTrue(psql.waitFor(5, TimeUnit.SECONDS));
            awaitClean(key);
        } finally {
            psql.destroyForcibly();
        }
    }

    @Test
    void clientKilledDuringALongQueryReleasesItsLock() throws Exception {
        int key = freshKey();
        Connection c = connect();
        c.setAutoCommit(false);
        CompletableFuture<Void> running = CompletableFuture.runAsync(() -> {
            try (Statement st = c.createStatement()) {
                st.execute("select pg_advisory_xact_lock(" + key + "), pg_sleep(30)");
            } catch (SQLException expected) {
                // the connection is aborted under it
            }
        });
        awaitTrue(() -> advisoryLockHeld(key), "the query took the lock");
        c.abort(Runnable::run);
        awaitClean(key);
        running.get(5, TimeUnit.SECONDS);
    }

    @Test
    void clientKilledDuringCopyInReleasesItsLock() throws Exception {
        int key = freshKey();
        Connection c = connect();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("select pg_advisory_xact_lock(" + key + ")");
        }
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI().copyIn("copy killed_copy from stdin");
        byte[] rows = "1\tone\n2\ttwo\n".getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(rows, 0, rows.length);
        copy.flushCopy();
        awaitTrue(() -> Fixtures.postgres().queryLong(TestPostgres.APP_DB, "select count(*) from pg_stat_activity"
                + " where query like 'copy killed_copy%' and state = 'active'") == 1, "the COPY is running");
        c.abort(Runnable::run);
        awaitClean(key);
        assertEquals(0, Fixtures.postgres().queryLong(TestPostgres.APP_DB,
                "select count(*) from tenant_a.killed_copy"), "nothing of the COPY was committed");
    }

    // ---- helpers

    private static Connection connect() throws SQLException {
        return Targets.forTenant(Fixtures.TENANT_A).connect();
    }

    private static int freshKey() {
        return ThreadLocalRandom.current().nextInt(1_000_000, Integer.MAX_VALUE);
    }

    private static boolean advisoryLockHeld(int key) {
        // A one-argument advisory lock on a non-negative int shows as classid 0, objid key, objsubid 1.
        return Fixtures.postgres().queryLong(TestPostgres.APP_DB, "select count(*) from pg_locks"
                + " where locktype = 'advisory' and classid = 0 and objid = " + key + " and objsubid = 1") > 0;
    }

    private static long idleInTransaction() {
        return Fixtures.postgres().queryLong(TestPostgres.APP_DB, "select count(*) from pg_stat_activity"
                + " where datname = current_database() and state like 'idle in transaction%'");
    }

    /** Whether some transaction holds the test row: a NOWAIT lock attempt by the superuser fails. */
    private static boolean rowLocked() throws SQLException {
        try (Connection admin = Fixtures.postgres().superuserConnection(TestPostgres.APP_DB);
             Statement st = admin.createStatement()) {
            admin.setAutoCommit(false);
            try (ResultSet rs = st.executeQuery(
                    "select id from tenant_a.notes where id = " + lockedRowId + " for update nowait")) {
                rs.next();
                return false;
            } catch (SQLException e) {
                if ("55P03".equals(e.getSQLState())) {
                    return true;
                }
                throw e;
            } finally {
                admin.rollback();
            }
        }
    }

    /** Polls until the lock is released and no session of the app database sits in an open transaction. */
    private static void awaitClean(int key) {
        awaitTrue(() -> !advisoryLockHeld(key) && idleInTransaction() == 0,
                "lock " + key + " released and no session idle in transaction");
    }

    private interface Check {
        boolean holds() throws Exception;
    }

    private static void awaitTrue(Check check, String what) {
        long deadline = System.currentTimeMillis() + DEADLINE_MILLIS;
        try {
            while (!check.holds()) {
                if (System.currentTimeMillis() > deadline) {
                    throw new AssertionError("not within " + DEADLINE_MILLIS + " ms: " + what);
                }
                TestPostgres.sleep(50);
            }
        } catch (AssertionError e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(what, e);
        }
    }
}
