package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A well-behaved client that keeps running small transactions on its own thread while a test misbehaves elsewhere,
 * proving the misbehaviour only hurt the misbehaving connection.
 */
final class Bystander implements AutoCloseable {

    private final AtomicLong successes = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final Thread thread;
    private volatile boolean running = true;

    Bystander(Target target) {
        thread = new Thread(() -> run(target), "bystander");
        thread.setDaemon(true);
        thread.start();
    }

    private void run(Target target) {
        try (Connection c = target.connect(); Statement st = c.createStatement()) {
            while (running) {
                try (ResultSet rs = st.executeQuery("select current_schema(), count(*) from notes")) {
                    rs.next();
                    if (!target.schema().equals(rs.getString(1))) {
                        throw new AssertionError("bystander ran in schema " + rs.getString(1));
                    }
                }
                successes.incrementAndGet();
                Thread.sleep(10);
            }
        } catch (SQLException | RuntimeException | AssertionError e) {
            failure.compareAndSet(null, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Fails if the bystander has failed, or does not complete a few more transactions within 5 seconds. */
    void assertStillHealthy() {
        long target = successes.get() + 3;
        long deadline = System.currentTimeMillis() + 5_000;
        while (successes.get() < target && failure.get() == null && System.currentTimeMillis() < deadline) {
            TestPostgres.sleep(10);
        }
        Throwable f = failure.get();
        if (f != null) {
            throw new AssertionError("the bystander client failed: " + f, f);
        }
        assertTrue(successes.get() >= target, "the bystander client stalled");
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        thread.join(5_000);
    }
}
