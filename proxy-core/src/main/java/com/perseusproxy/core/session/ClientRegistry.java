package com.perseusproxy.core.session;

import com.perseusproxy.core.pool.DataLoops;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Every client session, kept per data loop, for what concerns them all: the timeout sweep (one timer per loop for
 * all its sessions, as PgBouncer's periodic maintenance, instead of a timer per session) and the graceful shutdown.
 * Sessions add and remove themselves on their own loop; {@link #draining()}, {@link #size()}, {@link #states()} and
 * the {@code *Async} methods may be called from any thread.
 */
public final class ClientRegistry implements AutoCloseable {

    /** How often the timeouts are checked: they fire at most this late. */
    static final long SWEEP_MILLIS = 500;

    /** What a client gets once the shutdown has begun: PostgreSQL's text for a server shutting down, plus why. */
    static PgException shuttingDown() {
        return new PgException("57P01", "terminating connection due to administrator command: the proxy is shutting"
                + " down; reconnect (another instance will serve you) and retry");
    }

    private final DataLoops loops;
    private final Supplier<ClientTimeouts.Settings> timeouts;
    /** The sessions of each data loop, by loop index: each set is touched by its own loop only. */
    private final LoopSessions[] perLoop;
    /** Sessions open now on all loops (login admission reads it from any loop). */
    private final AtomicInteger size = new AtomicInteger();
    private volatile boolean draining;

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
        this(DataLoops.of(loop), timeouts);
    }

    /** One sweep per data loop, each over that loop's sessions. */
    public ClientRegistry(DataLoops loops, Supplier<ClientTimeouts.Settings> timeouts) {
        this.loops = loops;
        this.timeouts = timeouts;
        this.perLoop = new LoopSessions[loops.size()];
        for (int i = 0; i < perLoop.length; i++) {
            perLoop[i] = new LoopSessions(loops.get(i));
        }
    }

    /** The sessions of one data loop and its sweep timer. */
    private final class LoopSessions {
        final Set<ClientSession> sessions = new HashSet<>();
        /** sessions.size(), published for other threads. */
        volatile int count;
        final ScheduledFuture<?> sweep;
        volatile States states = new States(0, 0, 0, 0);

        LoopSessions(EventLoop loop) {
            sweep = loop.scheduleWithFixedDelay(() -> sweep(this), SWEEP_MILLIS, SWEEP_MILLIS,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** The calling loop's sessions (a session adds and removes itself on its own loop). */
    private LoopSessions here() {
        if (perLoop.length == 1) {
            return perLoop[0];
        }
        int index = loops.current();
        if (index < 0) {
            throw new IllegalStateException("client sessions are kept on their data loop only");
        }
        return perLoop[index];
    }

    /** The timeouts in force now (a reload may change them). */
    ClientTimeouts.Settings timeouts() {
        return timeouts.get();
    }

    void add(ClientSession session) {
        LoopSessions mine = here();
        if (mine.sessions.add(session)) {
            mine.count = mine.sessions.size();
            size.incrementAndGet();
        }
    }

    void remove(ClientSession session) {
        LoopSessions mine = here();
        if (mine.sessions.remove(session)) {
            mine.count = mine.sessions.size();
            size.decrementAndGet();
        }
    }

    /** Client sessions open now on each data loop, in loop order; safe from any thread. */
    public int[] sizePerLoop() {
        int[] sizes = new int[perLoop.length];
        for (int i = 0; i < sizes.length; i++) {
            sizes[i] = perLoop[i].count;
        }
        return sizes;
    }

    /** Whether a shutdown has begun: new logins and new transactions are refused with 57P01. */
    public boolean draining() {
        return draining;
    }

    /**
     * Begins the shutdown: idle clients and clients not yet logged in get 57P01 and are closed; clients inside a
     * transaction finish it and are closed when it ends.
     */
    public CompletableFuture<?> beginDrainAsync() {
        draining = true;
        return loops.onEach(i -> {
            new ArrayList<>(perLoop[i].sessions).forEach(ClientSession::onDrain);
            return null;
        });
    }

    /** Sessions that hold a backend or are logging in: what the drain waits for. */
    public CompletableFuture<Integer> busyCountAsync() {
        return loops.onEach(i -> (int) perLoop[i].sessions.stream().filter(ClientSession::busy).count())
                .thenApply(counts -> counts.stream().mapToInt(Integer::intValue).sum());
    }

    /** Closes every remaining session with 57P01 (drain timeout or second signal). */
    public CompletableFuture<?> closeAllAsync(String why) {
        draining = true;
        PgException error = new PgException("57P01", "terminating connection due to administrator command: the"
                + " proxy is shutting down (" + why + "); an open transaction was rolled back - reconnect and"
                + " retry");
        return loops.onEach(i -> {
            new ArrayList<>(perLoop[i].sessions).forEach(s -> s.terminate(error));
            return null;
        });
    }

    /**
     * The sessions of the calling data loop, for the admin console, which asks each loop in turn (see
     * {@link DataLoops#onEach}); read, never kept.
     */
    public java.util.Collection<ClientSession> sessions() {
        return java.util.Collections.unmodifiableSet(here().sessions);
    }

    /** Client sessions open now, on every loop; safe from any thread. */
    public int size() {
        return size.get();
    }

    /** The sessions by state at the last sweep of each loop, added up; safe from any thread. */
    public States states() {
        int login = 0;
        int idle = 0;
        int waiting = 0;
        int active = 0;
        for (LoopSessions l : perLoop) {
            States s = l.states;
            login += s.login();
            idle += s.idle();
            waiting += s.waiting();
            active += s.active();
        }
        return new States(login, idle, waiting, active);
    }

    private void sweep(LoopSessions mine) {
        long now = System.nanoTime();
        int[] counts = new int[4];
        for (ClientSession session : mine.sessions) {
            int state = session.metricsState();
            if (state >= 0) {
                counts[state]++;
            }
        }
        mine.states = new States(counts[States.LOGIN], counts[States.IDLE], counts[States.WAITING],
                counts[States.ACTIVE]);
        ClientTimeouts.Settings current = timeouts.get();
        if (current.idleInTransaction().isZero() && current.clientIdle().isZero() && current.query().isZero()) {
            return;
        }
        for (ClientSession session : new ArrayList<>(mine.sessions)) {
            session.checkTimeouts(now, current);
        }
    }

    @Override
    public void close() {
        for (LoopSessions l : perLoop) {
            l.sweep.cancel(false);
        }
    }
}
