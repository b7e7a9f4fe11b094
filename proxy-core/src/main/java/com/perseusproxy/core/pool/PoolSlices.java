package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.peers.GlobalBudget;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The pool of one destination as everything outside the data path sees it: one {@link BackendPool} per data loop.
 * With one loop that pool is the whole pool, used directly, exactly as before there were slices. With several, each
 * is a {@link PoolSlice} whose MaxOpen is a share of the pool's (split as {@link GlobalBudget} splits a budget among
 * replicas, so the shares add up to exactly MaxOpen); a session leases from its own loop's slice, and the console,
 * the metrics and a reload see the slices added up. A change of MaxOpen (reload, GlobalMaxOpen) is applied as a
 * difference: a raise adds units to the slices, a cut becomes a debt that the slices pay from their shares.
 */
public final class PoolSlices {

    private final Destination destination;
    private final Supplier<PoolSettings> settings;
    /** One pool per data loop, by loop index. */
    private final BackendPool[] pools;
    /** The same slices with their shares; null with one loop. */
    private final PoolSlice[] slices;
    /** Units of MaxOpen still to give up after a cut (paid by whichever slice has share to spare). */
    private final AtomicInteger debt = new AtomicInteger();
    /** MaxOpen as last split among the slices; read and written on loop 0 (and once by the constructor). */
    private int total;

    PoolSlices(Destination destination, DataLoops loops, Supplier<PoolSettings> settings,
               BiFunction<EventLoop, Supplier<PoolSettings>, BackendPool> makePool) {
        this.destination = destination;
        this.settings = settings;
        this.pools = new BackendPool[loops.size()];
        if (loops.size() == 1) {
            slices = null;
            pools[0] = makePool.apply(loops.get(0), settings);
            return;
        }
        total = settings.get().maxOpen();
        slices = new PoolSlice[loops.size()];
        for (int i = 0; i < slices.length; i++) {
            slices[i] = new PoolSlice(this, i, loops.get(i), GlobalBudget.exactShare(total, slices.length, i),
                    makePool);
            pools[i] = slices[i].pool();
        }
    }

    public Destination destination() {
        return destination;
    }

    /** The pool for a session on the calling loop: its slice (the only pool with one loop). */
    public BackendPool here() {
        if (pools.length == 1) {
            return pools[0];
        }
        for (BackendPool pool : pools) {
            if (pool.eventLoop().inEventLoop()) {
                return pool;
            }
        }
        return pools[0]; // not called from a data loop (a test): any slice serves
    }

    /** Every slice, in loop order. Each may be used on its own loop only. */
    public List<BackendPool> slices() {
        return List.of(pools);
    }

    /** The settings of the pool as a whole (MaxOpen is the total of the slices' shares). */
    public PoolSettings wholeSettings() {
        return settings.get();
    }

    /** Each slice's share of MaxOpen now (for tests and diagnostics); with one loop, the pool's MaxOpen. */
    public List<Integer> shares() {
        if (slices == null) {
            return List.of(settings.get().maxOpen());
        }
        List<Integer> shares = new ArrayList<>();
        for (PoolSlice s : slices) {
            shares.add(s.share());
        }
        return shares;
    }

    int size() {
        return pools.length;
    }

    PoolSlice slice(int index) {
        return slices[index];
    }

    /** Takes up to {@code max} units of the debt a MaxOpen cut left; returns how many were taken. */
    int takeDebt(int max) {
        while (true) {
            int owed = debt.get();
            int taken = Math.min(owed, Math.max(0, max));
            if (taken == 0 || debt.compareAndSet(owed, owed - taken)) {
                return taken;
            }
        }
    }

    /** Runs {@code action} on every slice, each on its own loop (at once for the calling loop's). */
    public void forEachSlice(Consumer<BackendPool> action) {
        for (BackendPool pool : pools) {
            if (pool.eventLoop().inEventLoop()) {
                action.accept(pool);
            } else {
                pool.eventLoop().execute(() -> action.accept(pool));
            }
        }
    }

    /**
     * Asks every slice on its own loop and completes with the answers in loop order; complete on return when the
     * pool has one slice and the caller is on its loop.
     */
    public <T> CompletableFuture<List<T>> askEachSlice(Function<BackendPool, T> question) {
        List<CompletableFuture<T>> answers = new ArrayList<>(pools.length);
        for (BackendPool pool : pools) {
            CompletableFuture<T> answer = new CompletableFuture<>();
            Runnable ask = () -> {
                try {
                    answer.complete(question.apply(pool));
                } catch (RuntimeException e) {
                    answer.completeExceptionally(e);
                }
            };
            if (pool.eventLoop().inEventLoop()) {
                ask.run();
            } else {
                pool.eventLoop().execute(ask);
            }
            answers.add(answer);
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new));
        return all.thenApply(v -> answers.stream().map(CompletableFuture::join).toList());
    }

    /** perseus_auth gave these credentials: every slice logs in with them from now on. */
    void updateCredentials(BackendCredentials latest) {
        forEachSlice(pool -> pool.updateCredentials(latest));
    }

    /** A reload changed the settings (on loop 0): MaxOpen is split afresh, then every slice applies them. */
    void settingsChanged() {
        if (slices != null) {
            retotal();
        }
        forEachSlice(BackendPool::settingsChanged);
    }

    /** The once-a-second housekeeping of the slice on loop {@code index} (on that loop). */
    void housekeeping(int index) {
        BackendPool pool = pools[index];
        pool.evictIdle();
        if (slices != null) {
            if (index == 0) {
                retotal(); // GlobalMaxOpen shares change with the peers, without a reload
            }
            slices[index].payDebt();
            slices[index].wantMore(); // waiters whose earlier request found no spare unit ask again
        }
        pool.stats().sample(pool.settings().maxOpen(), pool.openCount(), pool.idleCount());
        BackendCredentials current = pool.currentCredentials();
        pool.stats().sampleCredentials(current == null ? "" : current.fingerprint(), pool.openByFingerprint());
    }

    /** Applies a changed MaxOpen as a difference, so the units lent between slices stay where they are (loop 0). */
    private void retotal() {
        int now = settings.get().maxOpen();
        int delta = now - total;
        if (delta == 0) {
            return;
        }
        total = now;
        if (delta < 0) {
            debt.addAndGet(-delta);
            for (PoolSlice s : slices) {
                s.loop().execute(s::payDebt);
            }
            return;
        }
        int added = delta - takeDebt(delta); // a raise first cancels what an earlier cut has not collected yet
        for (int i = 0; i < slices.length; i++) {
            int units = GlobalBudget.exactShare(added, slices.length, i);
            if (units > 0) {
                PoolSlice s = slices[i];
                s.loop().execute(() -> s.add(units));
            }
        }
    }

    /** What the console shows of the pool: the slices' snapshots (each taken on its loop) added up. */
    public CompletableFuture<PoolSnapshot> snapshot() {
        return askEachSlice(BackendPool::snapshot).thenApply(parts -> merged(parts, settings.get().maxOpen()));
    }

    static PoolSnapshot merged(List<PoolSnapshot> parts, int maxOpen) {
        if (parts.size() == 1) {
            return parts.get(0);
        }
        int open = 0;
        int idle = 0;
        int opening = 0;
        long leased = 0;
        int waiting = 0;
        int held = 0;
        long oldestWait = 0;
        boolean paused = false;
        int closeNeeded = 0;
        String live = "";
        List<String> retiring = new ArrayList<>();
        boolean failing = false;
        String lastError = null;
        long nextLogin = 0;
        long serverLogins = 0;
        long leasesTotal = 0;
        double waitSeconds = 0;
        List<ServerInfo> servers = new ArrayList<>();
        for (PoolSnapshot p : parts) {
            open += p.open();
            idle += p.idle();
            opening += p.opening();
            leased += p.leased();
            waiting += p.waiting();
            held += p.held();
            oldestWait = Math.max(oldestWait, p.oldestWaitNanos());
            paused |= p.paused();
            closeNeeded += p.closeNeeded();
            if (live.isEmpty()) {
                live = p.liveCredential();
            }
            p.retiring().stream().filter(r -> !retiring.contains(r)).forEach(retiring::add);
            failing |= p.loginFailing();
            if (lastError == null) {
                lastError = p.lastLoginError();
            }
            nextLogin = Math.max(nextLogin, p.nextLoginMillis());
            serverLogins += p.serverLogins();
            leasesTotal += p.leasesTotal();
            waitSeconds += p.waitSeconds();
            servers.addAll(p.servers());
        }
        String current = live;
        retiring.removeIf(current::equals);
        return new PoolSnapshot(parts.get(0).destination(), maxOpen, open, idle, opening, leased, waiting, held,
                oldestWait, paused, closeNeeded, live, retiring, failing, lastError, nextLogin, serverLogins,
                leasesTotal, waitSeconds, servers);
    }
}
