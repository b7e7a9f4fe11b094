package com.perseusproxy.server.peers;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.perseusproxy.core.peers.CancelKeyBits;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SQL of {@code perseus_peers} (DDL in docs/PEERS.md). Times are the database's {@code now()}, so replicas with
 * skewed clocks agree on who expired. The slot is UNIQUE: two replicas that pick the same free slot at the same moment
 * cannot both insert it, and the loser picks again - that is the whole collision handling.
 */
final class PeerTable {

    private static final Logger log = LoggerFactory.getLogger(PeerTable.class);

    static final String DDL = """
            CREATE TABLE IF NOT EXISTS perseus_peers (
                id character varying(253) PRIMARY KEY,
                slot smallint NOT NULL UNIQUE CHECK (slot BETWEEN 1 AND 255),
                address character varying(300) NOT NULL,
                started_at timestamp with time zone NOT NULL,
                heartbeat_at timestamp with time zone NOT NULL,
                bounds jsonb NOT NULL DEFAULT '{}'
            )""";
    /** A table made by an older version (or a DBA from older docs) gets the bounds column. */
    static final String UPGRADE = "ALTER TABLE perseus_peers ADD COLUMN IF NOT EXISTS bounds jsonb NOT NULL"
            + " DEFAULT '{}'";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Integer>> BOUNDS = new TypeReference<>() {
    };

    private final DataSource db;
    private final int timeoutSecs;
    private final int expirySecs;
    private boolean created;
    /** Whether the table has the bounds column (GlobalMaxOpen then never exceeds, see BudgetBounds). */
    private boolean bounded;

    PeerTable(DataSource db, int timeoutSecs, int expirySecs) {
        this.db = db;
        this.timeoutSecs = timeoutSecs;
        this.expirySecs = expirySecs;
    }

    Connection connect() throws SQLException {
        Connection c = db.getConnection();
        c.setAutoCommit(true);
        if (!created) {
            try (Statement st = c.createStatement()) {
                st.setQueryTimeout(timeoutSecs);
                st.execute(DDL);
            } catch (SQLException e) {
                // Not allowed to create it: fine if a DBA did (the next statement tells).
                log.info("peers: could not create perseus_peers (SQLSTATE {}); using it if it exists",
                        e.getSQLState());
            }
            bounded = hasBoundsColumn(c);
            if (!bounded) {
                // Only when missing: even a no-op ALTER TABLE waits for the lock the other replicas' heartbeats hold.
                try (Statement st = c.createStatement()) {
                    st.setQueryTimeout(timeoutSecs);
                    st.execute(UPGRADE);
                    log.info("peers: added the bounds column to perseus_peers");
                } catch (SQLException e) {
                    log.debug("peers: could not add the bounds column (SQLSTATE {})", e.getSQLState());
                }
                bounded = hasBoundsColumn(c);
            }
            if (!bounded) {
                log.warn("peers: perseus_peers has no bounds column and it could not be added; GlobalMaxOpen may be"
                        + " exceeded for a heartbeat while a replica joins (run: {})", UPGRADE);
            }
            created = true;
        }
        return c;
    }

    /**
     * Claims the lowest free slot for {@code id}, after removing expired rows and any older row of the same id (a
     * restart of the same pod). Returns 0 when every slot is taken.
     */
    int register(Connection c, String id, String address) throws SQLException {
        for (int attempt = 0; attempt < 5; attempt++) {
            try (PreparedStatement del = c.prepareStatement("DELETE FROM perseus_peers WHERE id = ?"
                    + " OR heartbeat_at < now() - make_interval(secs => ?)")) {
                del.setQueryTimeout(timeoutSecs);
                del.setString(1, id);
                del.setInt(2, expirySecs);
                del.executeUpdate();
            }
            try (PreparedStatement ins = c.prepareStatement("INSERT INTO perseus_peers"
                    + " (id, slot, address, started_at, heartbeat_at)"
                    + " SELECT ?, s, ?, now(), now() FROM generate_series(1, " + CancelKeyBits.MAX_SLOT + ") s"
                    + " WHERE s NOT IN (SELECT slot FROM perseus_peers) ORDER BY s LIMIT 1"
                    + " ON CONFLICT DO NOTHING RETURNING slot")) {
                ins.setQueryTimeout(timeoutSecs);
                ins.setString(1, id);
                ins.setString(2, address);
                try (ResultSet rs = ins.executeQuery()) {
                    if (rs.next()) {
                        return rs.getInt(1);
                    }
                }
            }
            if (full(c)) {
                return 0;
            }
            // Lost a race for that slot (or for the id) to another replica registering now: pick again.
        }
        return 0;
    }

    private boolean full(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM perseus_peers")) {
            return rs.next() && rs.getInt(1) >= CancelKeyBits.MAX_SLOT;
        }
    }

    /** The heartbeat; false when the row is gone (expired by the others, or taken over): register again. */
    boolean touch(Connection c, String id, int slot, String address) throws SQLException {
        try (PreparedStatement up = c.prepareStatement("UPDATE perseus_peers SET heartbeat_at = now(), address = ?"
                + " WHERE id = ? AND slot = ?")) {
            up.setQueryTimeout(timeoutSecs);
            up.setString(1, address);
            up.setString(2, id);
            up.setInt(3, slot);
            return up.executeUpdate() == 1;
        }
    }

    /** The live peers other than {@code self}, by slot. */
    Map<Integer, InetSocketAddress> live(Connection c, String self) throws SQLException {
        Map<Integer, InetSocketAddress> peers = new HashMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT slot, address FROM perseus_peers WHERE id <> ?"
                + " AND heartbeat_at >= now() - make_interval(secs => ?)")) {
            q.setQueryTimeout(timeoutSecs);
            q.setString(1, self);
            q.setInt(2, expirySecs);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    String address = rs.getString(2);
                    int colon = address.lastIndexOf(':');
                    try {
                        // Resolved here, on the peers thread, so forwarding on the loop never waits for DNS.
                        peers.put(rs.getInt(1), new InetSocketAddress(
                                address.substring(0, colon).replace("[", "").replace("]", ""),
                                Integer.parseInt(address.substring(colon + 1))));
                    } catch (RuntimeException e) {
                        log.warn("peers: slot {} has an unusable address; ignored", rs.getInt(1));
                    }
                }
            }
        }
        return peers;
    }

    private boolean hasBoundsColumn(Connection c) {
        try (Statement st = c.createStatement()) {
            st.setQueryTimeout(timeoutSecs);
            st.executeQuery("SELECT bounds FROM perseus_peers LIMIT 0").close();
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    boolean bounded() {
        return bounded;
    }

    /**
     * Inside the caller's transaction: locks every live row and this replica's own, in id order (so the heartbeats of
     * all replicas run their budget step one at a time, without deadlocks), and sums the bounds the <em>other</em>
     * live replicas published, per destination key.
     */
    Map<String, Integer> lockOthersBounds(Connection c, String self) throws SQLException {
        Map<String, Integer> sums = new HashMap<>();
        try (PreparedStatement q = c.prepareStatement("SELECT id, bounds::text FROM perseus_peers WHERE id = ?"
                + " OR heartbeat_at >= now() - make_interval(secs => ?) ORDER BY id FOR UPDATE")) {
            q.setQueryTimeout(timeoutSecs);
            q.setString(1, self);
            q.setInt(2, expirySecs);
            try (ResultSet rs = q.executeQuery()) {
                while (rs.next()) {
                    if (!rs.getString(1).equals(self)) {
                        parseBounds(rs.getString(2)).forEach((key, bound) -> sums.merge(key, bound, Integer::sum));
                    }
                }
            }
        }
        return sums;
    }

    /** Inside the caller's transaction, after {@link #lockOthersBounds}: this replica's bounds, per destination. */
    void publishBounds(Connection c, String id, int slot, Map<String, Integer> bounds) throws SQLException {
        try (PreparedStatement up = c.prepareStatement("UPDATE perseus_peers SET bounds = ?::jsonb"
                + " WHERE id = ? AND slot = ?")) {
            up.setQueryTimeout(timeoutSecs);
            up.setString(1, JSON.writeValueAsString(bounds));
            up.setString(2, id);
            up.setInt(3, slot);
            up.executeUpdate();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the bounds as JSON", e);
        }
    }

    /** A row's bounds; one that is not an object of whole numbers (edited by hand?) is ignored, with a warning. */
    private static Map<String, Integer> parseBounds(String text) {
        try {
            return JSON.readValue(text, BOUNDS);
        } catch (JsonProcessingException e) {
            log.warn("peers: a row of perseus_peers has unreadable bounds; ignored");
            return Map.of();
        }
    }

    void remove(Connection c, String id, int slot) throws SQLException {
        try (PreparedStatement del = c.prepareStatement("DELETE FROM perseus_peers WHERE id = ? AND slot = ?")) {
            del.setQueryTimeout(timeoutSecs);
            del.setString(1, id);
            del.setInt(2, slot);
            del.executeUpdate();
        }
    }
}
