package com.perseusproxy.core.session;

import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Every client session of the data loop, for what concerns them all: the timeout sweep (one timer for all sessions,
 * as PgBouncer's periodic maintenance, instead of a timer per session) and the graceful shutdown. Sessions add and
 * remove themselves; every method except {@link #draining()} and the {@code *Async} ones runs on the loop.
 */
public final class ClientRegistry implements AutoCloseable {

    /** How often the timeouts are checked: they fire at most this late. */
    static final long SWEEP_MILLIS = 500;

    /** What a client gets once the shutdown has begun: PostgreSQL's text for a server shutting down, plus why. */
    static PgException shuttingDown() {
        return new PgException("57P01", "terminating connection due to administrator command: the proxy is shutting"
                + " down; reconnect (another instance will serve you) and retry");
    }

    private final EventLoop loop;
    private final Supplier<ClientTimeouts.Settings> timeouts;
    private final Set<ClientSession> sessions = new HashSet<>();
    private final ScheduledFuture<?> sweep;
    private volatile boolean draining;
    private volatile States states = new States(0, 0, 0, 0);

    /**
     * How many sessions are in each state, counted by the sweep (every {@link #SWEEP_MILLIS}), so the metrics
     * thread never touches the loop's sessions and no message pays for it.
     *
     * @param login   connected, not yet logged in (startup, password, its check, the probe lease)
     * @param idle    logged in, between transactions
     * @param waiting a transaction waits for a backend
     * @param active  a transaction holds a backend
     */
    public record States(int login, int idle, int waiting, int active) {
        static final int LOGIN = 0;
        static final int IDLE = 1;
        static final int WAITING = 2;
        static final int ACTIVE = 3;
    }

    public ClientRegistry(EventLoop loop, Supplier<ClientTimeouts.Settings> timeouts) {
        this.loop = loop;
        this.timeouts = timeouts;
        this.sweep = loop.scheduleWithFixedDelay(this::sweep, SWEEP_MILLIS, SWEEP_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** The timeouts in force now (a reload may change them). */
    ClientTimeouts.Settings timeouts() {
        return timeouts.get();
    }

    void add(ClientSession session) {
        sessions.add(session);
    }

    void remove(ClientSession session) {
        sessions.remove(session);
    }

    /** Whether a shutdown has begun: new logins and new transactions are refused with 57P01. */
    public boolean draining() {
        return draining;
    }

    /**
     * Begins the shutdown: idle clients and clients not yet logged in get 57P01 and are closed; clients inside a
     * transaction finish it and are closed when it ends.
     */
    public Future<?> beginDrainAsync() {
        return loop.submit(() -> {
            draining = true;
            new ArrayList<>(sessions).forEach(ClientSession::onDrain);
        });
    }

    /** Sessions that hold a backend or are logging in: what the drain waits for. */
    public Future<Integer> busyCountAsync() {
        return loop.submit(() -> (int) sessions.stream().filter(ClientSession::busy).count());
    }

    /** Closes every remaining session with 57P01 (drain timeout or second signal). */
    public Future<?> closeAllAsync(String why) {
        return loop.submit(() -> {
            draining = true;
            PgException error = new PgException("57P01", "terminating connection due to administrator command: the"
                    + " proxy is shutting down (" + why + "); an open transaction was rolled back - reconnect and"
                    + " retry");
            new ArrayList<>(sessions).forEach(s -> s.terminate(error));
        });
    }

    /** Every session, for the admin console (loop only; read, never kept). */
    public java.util.Collection<ClientSession> sessions() {
        return java.util.Collections.unmodifiableSet(sessions);
    }

    /** Client sessions open now. */
    public int size() {
        return sessions.size();
    }

    /** The sessions by state at the last sweep; safe from any thread. */
    public States states() {
        return states;
    }

    private void sweep() {
        long now = System.nanoTime();
        int[] counts = new int[4];
        for (ClientSession session : sessions) {
            int state = session.metricsState();
            if (state >= 0) {
                counts[state]++;
            }
        }
        states = new States(counts[States.LOGIN], counts[States.IDLE], counts[States.WAITING],
                counts[States.ACTIVE]);
        ClientTimeouts.Settings current = timeouts.get();
        if (current.idleInTransaction().isZero() && current.clientIdle().isZero() && current.query().isZero()) {
            return;
        }
        for (ClientSession session : new ArrayList<>(sessions)) {
            session.checkTimeouts(now, current);
        }
    }

    @Override
    public void close() {
        sweep.cancel(false);
    }
}
