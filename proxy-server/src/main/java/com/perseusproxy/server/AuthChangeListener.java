package com.perseusproxy.server;

import com.perseusproxy.core.tenant.DsnRedaction;
import com.zaxxer.hikari.HikariConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LISTENs on the auth database for changes to {@code perseus_auth} (operators add a trigger that NOTIFYs the channel,
 * see docs/ROTATION.md) and asks for an immediate refresh of the routes in use. Runs on a thread of its own with a
 * dedicated JDBC connection, outside the lookup pool: a LISTEN lives as long as its session. When the connection
 * breaks it reconnects with backoff and refreshes once, since notifications sent meanwhile are lost.
 */
final class AuthChangeListener implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AuthChangeListener.class);
    private static final int POLL_MILLIS = 1000;
    private static final long MAX_RECONNECT_MILLIS = 30_000;

    private final HikariConfig authDb;
    private final String channel;
    private final Runnable onChange;
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Connection connection;

    AuthChangeListener(HikariConfig authDb, String channel, Runnable onChange) {
        this.authDb = authDb;
        this.channel = channel;
        this.onChange = onChange;
        this.thread = new Thread(this::run, "perseus-auth-listen");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void run() {
        long reconnectMillis = 500;
        boolean firstConnect = true;
        while (running) {
            try (Connection c = connect(); Statement st = c.createStatement()) {
                connection = c;
                st.execute("LISTEN " + channel); // validated as a plain identifier by the config
                log.info("listening on auth database channel {} for perseus_auth changes", channel);
                if (!firstConnect) {
                    onChange.run(); // changes made while disconnected were not notified
                }
                firstConnect = false;
                reconnectMillis = 500;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (running) {
                    PGNotification[] notes = pg.getNotifications(POLL_MILLIS);
                    if (notes != null && notes.length > 0) {
                        log.info("perseus_auth changed (NOTIFY {}): re-reading the routes in use", channel);
                        onChange.run();
                    }
                }
            } catch (SQLException e) {
                if (!running) {
                    return;
                }
                String reason = DsnRedaction.scrub(e.getMessage());
                if (reconnectMillis == 500) { // the first failure in a row is worth a warning; retries are not
                    log.warn("listening on auth database channel {} failed: {}; retrying with backoff (until then"
                            + " changes are picked up by the periodic refresh)", channel, reason);
                } else {
                    log.debug("listening on auth database channel {} failed again: {}", channel, reason);
                }
                sleep(reconnectMillis);
                reconnectMillis = Math.min(reconnectMillis * 2, MAX_RECONNECT_MILLIS);
            }
        }
    }

    private Connection connect() throws SQLException {
        Properties props = new Properties();
        props.putAll(authDb.getDataSourceProperties());
        if (authDb.getUsername() != null) {
            props.setProperty("user", authDb.getUsername());
        }
        if (authDb.getPassword() != null) {
            props.setProperty("password", authDb.getPassword());
        }
        props.setProperty("ApplicationName", "perseus-listen");
        return DriverManager.getConnection(authDb.getJdbcUrl(), props);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        thread.interrupt();
        try {
            thread.join(3000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
