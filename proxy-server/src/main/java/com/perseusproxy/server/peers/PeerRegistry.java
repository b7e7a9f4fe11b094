package com.perseusproxy.server.peers;

import com.perseusproxy.core.peers.BudgetBounds;
import com.perseusproxy.core.peers.PeerDirectory;
import com.perseusproxy.server.config.PeerSettings;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this replica's row in {@code perseus_peers} alive and publishes the live peers to the {@link PeerDirectory}
 * (their slots, for cancel forwarding; their count, for the global budget). All JDBC runs on one thread of its own
 * ({@code perseus-peers}, a bounded executor: one heartbeat at a time, never queued up), never on an event loop. With
 * a static {@code Peers} list nothing is written: the list's order gives the slots.
 */
public final class PeerRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PeerRegistry.class);
    /** A peer silent for this many heartbeats is expired (one missed heartbeat is a hiccup, not a death). */
    static final int EXPIRY_HEARTBEATS = 3;
    /** The longest a start waits for its first registration. */
    static final int FIRST_REGISTRATION_SECS = 3;

    /**
     * A destination with a GlobalMaxOpen that this replica has pools for.
     *
     * @param global GlobalMaxOpen
     * @param held   max(limit in force, connections open), over its pools: what it may hold right now
     */
    public record BudgetUse(int global, int held) {
    }

    private final PeerSettings settings;
    /** Per destination key (BudgetBounds.key), read once per heartbeat. */
    private final Supplier<Map<String, BudgetUse>> budgets;
    private final AtomicBoolean heartbeatQueued = new AtomicBoolean();
    private final PeerTable table;
    private final PeerDirectory directory;
    private final Runnable onLiveCountChange;
    private final String address;
    private final ScheduledThreadPoolExecutor thread;
    private int slot;

    private PeerRegistry(PeerSettings settings, PeerTable table, PeerDirectory directory, String address,
                         Runnable onLiveCountChange, Supplier<Map<String, BudgetUse>> budgets) {
        this.settings = settings;
        this.budgets = budgets;
        this.table = table;
        this.directory = directory;
        this.address = address;
        this.onLiveCountChange = onLiveCountChange;
        this.thread = table == null ? null : new ScheduledThreadPoolExecutor(1,
                new DefaultThreadFactory("perseus-peers", true));
    }

    /**
     * Starts the peers of this replica: registers it (waiting for the first registration, bounded by the query
     * timeout, so the first clients already get keys with its slot) and schedules the heartbeat.
     *
     * @param listen  the client address this replica listens on (a wildcard host is replaced by this host's address)
     * @param budgets the destinations with a GlobalMaxOpen in use here, and what this replica holds of each
     */
    public static PeerRegistry start(PeerSettings settings, DataSource authDb, int queryTimeoutSecs,
                                     InetSocketAddress listen, PeerDirectory directory, Runnable onLiveCountChange,
                                     Supplier<Map<String, BudgetUse>> budgets) {
        String address = advertised(listen);
        if (!settings.peers().isEmpty()) {
            PeerRegistry registry = new PeerRegistry(settings, null, directory, address, onLiveCountChange, budgets);
            registry.applyStatic(listen);
            return registry;
        }
        PeerTable table = new PeerTable(authDb, queryTimeoutSecs,
                settings.heartbeatSecs() * EXPIRY_HEARTBEATS);
        PeerRegistry registry = new PeerRegistry(settings, table, directory, address, onLiveCountChange, budgets);
        try {
            // Bounded briefly: the proxy starts even while the auth database is down (keys issued before the
            // registration carry no slot and are simply not forwardable).
            registry.thread.submit(registry::heartbeat).get(Math.min(queryTimeoutSecs, FIRST_REGISTRATION_SECS),
                    TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("peers: first registration did not finish ({}); retrying every {} s", e.getClass()
                    .getSimpleName(), settings.heartbeatSecs());
        }
        registry.thread.scheduleWithFixedDelay(registry::heartbeat, settings.heartbeatSecs(),
                settings.heartbeatSecs(), TimeUnit.SECONDS);
        return registry;
    }

    /** One heartbeat: (re-)register if needed, refresh the row, read the live peers. Runs on perseus-peers only. */
    private void heartbeat() {
        try (Connection c = table.connect()) {
            if (slot == 0 || !table.touch(c, settings.id(), slot, address)) {
                int previous = slot;
                slot = table.register(c, settings.id(), address);
                if (slot == 0) {
                    log.warn("peers: no free slot in perseus_peers (255 live replicas?); cancel forwarding is off"
                            + " for this replica until one frees up");
                } else if (previous != 0 && previous != slot) {
                    log.warn("peers: this replica's row had expired and slot {} was taken; now slot {} (keys issued"
                            + " before cannot be forwarded to it)", previous, slot);
                } else {
                    log.info("peers: registered as '{}', slot {}, address {}", settings.id(), slot, address);
                }
            }
            Map<Integer, InetSocketAddress> live = table.live(c, settings.id());
            publish(live, table.bounded() && slot != 0 ? shareBudgets(c, live) : null);
        } catch (SQLException e) {
            // Keep the last view: the peers are most likely still there, only the auth database is not.
            log.warn("peers: heartbeat failed ({}, SQLSTATE {}); keeping the last known peers",
                    e.getClass().getSimpleName(), e.getSQLState());
        } catch (RuntimeException e) {
            log.warn("peers: heartbeat failed: {}", e.toString());
        }
    }

    /**
     * The budget step of a heartbeat (see BudgetBounds), in one transaction that holds every live row: read what the
     * others published, compute this replica's allowances, publish its bounds. The allowances are returned to be
     * applied only now that the bounds covering them are committed.
     */
    private Map<String, Integer> shareBudgets(Connection c, Map<Integer, InetSocketAddress> live)
            throws SQLException {
        Map<String, BudgetUse> use = budgets.get();
        PeerDirectory.View view = PeerDirectory.View.of(slot, live);
        c.setAutoCommit(false);
        try {
            Map<String, Integer> others = table.lockOthersBounds(c, settings.id());
            Map<String, Integer> allowed = new HashMap<>();
            Map<String, Integer> bounds = new HashMap<>();
            use.forEach((key, u) -> {
                int a = BudgetBounds.allowed(u.global(), view.liveCount(), view.rank(), others.getOrDefault(key, 0));
                allowed.put(key, a);
                bounds.put(key, BudgetBounds.published(a, u.held(), 0));
            });
            table.publishBounds(c, settings.id(), slot, bounds);
            c.commit();
            return allowed;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private void publish(Map<Integer, InetSocketAddress> peers, Map<String, Integer> allowances) {
        PeerDirectory.View before = directory.view();
        PeerDirectory.View next = PeerDirectory.View.of(slot, peers, allowances);
        directory.update(next);
        boolean liveChanged = before.liveCount() != next.liveCount() || before.rank() != next.rank();
        if (liveChanged) {
            log.info("peers: {} live replicas (this one is slot {})", next.liveCount(), slot);
        }
        if (liveChanged || !java.util.Objects.equals(before.allowances(), next.allowances())) {
            onLiveCountChange.run(); // the pools take their new limits (a lower one as connections come back)
        }
    }

    /**
     * A pool of a destination with a GlobalMaxOpen has no allowance yet (its first client): run a heartbeat now
     * rather than at the next period, so that client waits for one auth-database round trip, not a heartbeat.
     */
    public void heartbeatSoon() {
        if (thread != null && heartbeatQueued.compareAndSet(false, true)) {
            try {
                thread.execute(() -> {
                    heartbeatQueued.set(false);
                    heartbeat();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                heartbeatQueued.set(false); // shutting down
            }
        }
    }

    /** Static list: slot = position in the list (1-based); this replica is the entry that is its own address. */
    private void applyStatic(InetSocketAddress listen) {
        List<String> list = settings.peers();
        Map<Integer, InetSocketAddress> peers = new HashMap<>();
        for (int i = 0; i < list.size(); i++) {
            String entry = list.get(i);
            int colon = entry.lastIndexOf(':');
            InetSocketAddress peer = InetSocketAddress.createUnresolved(
                    entry.substring(0, colon).replace("[", "").replace("]", ""),
                    Integer.parseInt(entry.substring(colon + 1)));
            if (slot == 0 && isSelf(peer, listen)) {
                slot = i + 1;
            } else {
                peers.put(i + 1, new InetSocketAddress(peer.getHostString(), peer.getPort()));
            }
        }
        if (slot == 0) {
            log.warn("peers: this replica ({}) is not in PeerSettings.Peers; cancel forwarding is off", address);
            return;
        }
        publish(peers, null);
    }

    private static boolean isSelf(InetSocketAddress peer, InetSocketAddress listen) {
        if (peer.getPort() != listen.getPort()) {
            return false;
        }
        try {
            InetAddress host = InetAddress.getByName(peer.getHostString());
            return host.isLoopbackAddress() || host.isAnyLocalAddress() || NetworkInterface.getByInetAddress(host) != null;
        } catch (UnknownHostException | SocketException e) {
            return false;
        }
    }

    /** host:port peers can reach: the listen host, or this host's address when listening on every interface. */
    static String advertised(InetSocketAddress listen) {
        InetAddress host = listen.getAddress();
        String text;
        if (host == null || host.isAnyLocalAddress()) {
            try {
                text = InetAddress.getLocalHost().getHostAddress();
            } catch (UnknownHostException e) {
                text = "127.0.0.1";
            }
        } else {
            text = host.getHostAddress();
        }
        return (text.contains(":") ? "[" + text + "]" : text) + ":" + listen.getPort();
    }

    /** The slot this replica's keys carry (0 = none). */
    public int slot() {
        return directory.ownSlot();
    }

    /** Removes this replica's row (at the end of a shutdown), so the others re-split the budget at once. */
    @Override
    public void close() {
        if (thread == null) {
            return;
        }
        // On the peers thread (slot is its field) and bounded: a shutdown never waits long for the auth database.
        java.util.concurrent.Future<?> removal = thread.submit(() -> {
            if (slot != 0) {
                try (Connection c = table.connect()) {
                    table.remove(c, settings.id(), slot);
                } catch (SQLException e) {
                    log.info("peers: could not remove this replica's row (SQLSTATE {}); it expires by itself",
                            e.getSQLState());
                }
            }
        });
        try {
            removal.get(FIRST_REGISTRATION_SECS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            log.info("peers: removing this replica's row did not finish; it expires by itself");
        }
        thread.shutdownNow();
    }

}
