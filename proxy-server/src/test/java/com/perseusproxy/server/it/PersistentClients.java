package com.perseusproxy.server.it;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * pgjdbc clients that keep their connection, as an application's pool does, running short write transactions in a
 * loop and reconnecting when the proxy ends their session. pgbench cannot reconnect, so this is how the rolling
 * restart tells <em>where</em> a client met the shutdown: each transaction inserts its own row, so the rows in the
 * table are exactly the transactions that committed, and every error is recorded with the step it came at.
 */
final class PersistentClients implements AutoCloseable {

    static final String TABLE = "rolling_commits";

    /** An error a client saw: its SQLSTATE, and the step of the transaction it came at. */
    record Failure(int client, Step step, String sqlState, String message) {
    }

    /** Where in its loop a client was: opening a connection, at a transaction's first statement, or past it. */
    enum Step { CONNECT, FIRST_STATEMENT, INSIDE_TRANSACTION, COMMIT }

    private final Target target;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> committed = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();

    private PersistentClients(Target target) {
        this.target = target;
    }

    /** Creates (or empties) the table in the tenant's schema, then starts {@code count} clients. */
    static PersistentClients start(Target target, Target owner, int count) throws SQLException {
        try (Connection c = owner.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (client int, seq int, PRIMARY KEY (client, seq))");
            st.execute("TRUNCATE " + TABLE);
        }
        PersistentClients clients = new PersistentClients(target);
        for (int i = 1; i <= count; i++) {
            int client = i;
            Thread t = new Thread(() -> clients.run(client), "persistent-client-" + i);
            t.setDaemon(true);
            clients.threads.add(t);
            t.start();
        }
        return clients;
    }

    private void run(int client) {
        int seq = 0;
        while (!stop.get()) {
            Connection c;
            try {
                c = target.connect();
                c.setAutoCommit(false);
            } catch (SQLException e) {
                failures.add(new Failure(client, Step.CONNECT, e.getSQLState(), e.getMessage()));
                sleep(200);
                continue;
            }
            try (c; PreparedStatement insert = c.prepareStatement("INSERT INTO " + TABLE + " VALUES (?, ?)");
                 Statement st = c.createStatement()) {
                while (!stop.get()) {
                    seq++;
                    Step step = Step.FIRST_STATEMENT;
                    try {
                        insert.setInt(1, client);
                        insert.setInt(2, seq);
                        insert.executeUpdate(); // pgjdbc sends BEGIN with it: the transaction starts here
                        step = Step.INSIDE_TRANSACTION;
                        st.execute("SELECT pg_sleep(0.03)"); // long enough that some are in flight at a drain
                        step = Step.COMMIT;
                        c.commit();
                        committed.add(client + "/" + seq);
                    } catch (SQLException e) {
                        failures.add(new Failure(client, step, e.getSQLState(), e.getMessage()));
                        break; // the session is over (or broken): connect again, through the load balancer
                    }
                }
            } catch (SQLException e) {
                failures.add(new Failure(client, Step.CONNECT, e.getSQLState(), e.getMessage()));
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    List<Failure> failures() {
        return List.copyOf(failures);
    }

    Set<String> committed() {
        return new HashSet<>(committed);
    }

    /** The transactions the table holds, as client/seq. */
    static Set<String> rows(Target owner) throws SQLException {
        Set<String> rows = new HashSet<>();
        try (Connection c = owner.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT client, seq FROM " + TABLE)) {
            while (rs.next()) {
                rows.add(rs.getInt(1) + "/" + rs.getInt(2));
            }
        }
        return rows;
    }

    /** Stops the loops after their current transaction. */
    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Thread t : threads) {
            t.join(30_000);
        }
    }
}
