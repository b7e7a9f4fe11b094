package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a pool's MaxOpen is split among its slices and re-split when it changes, on real event loops. Lending under
 * load is tested against PostgreSQL (WorkerThreadsTest); here no connection is opened.
 */
class PoolSlicesTest {

    static final Destination DB = new Destination("db", 5432, "app", "app_user");
    static final BackendCredentials CREDENTIALS = new BackendCredentials("app_user", "pw");

    final List<EventLoop> loops = List.of(new DefaultEventLoop(), new DefaultEventLoop(), new DefaultEventLoop());
    final AtomicReference<PoolSettings> settings = new AtomicReference<>(withMaxOpen(7));
    final PoolRegistry registry = new PoolRegistry(new DataLoops(loops), new BackendConnector(Runnable::run),
            d -> settings.get(), CredentialSource.NONE, ProxyEvents.NONE);

    static PoolSettings withMaxOpen(int maxOpen) {
        return new PoolSettings(maxOpen, maxOpen, Duration.ofHours(1), Duration.ofMinutes(5), Duration.ofSeconds(5),
                Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(60), 200,
                PoolSettings.DEFAULT_SERVER_CHECK_DELAY);
    }

    @AfterEach
    void stop() {
        registry.close();
        loops.forEach(l -> l.shutdownGracefully(0, 1, TimeUnit.SECONDS));
    }

    private PoolSlices pool() {
        return registry.existingOrNew(DB, CREDENTIALS);
    }

    /** The slices' MaxOpen as each slice's pool sees it, read on its own loop. */
    private List<Integer> sliceMaxOpens() throws Exception {
        return pool().askEachSlice(p -> p.settings().maxOpen()).get(5, TimeUnit.SECONDS);
    }

    private void awaitTotal(int total) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && sliceMaxOpens().stream().mapToInt(Integer::intValue).sum() != total) {
            Thread.sleep(10);
        }
    }

    @Test
    void sharesAddUpToExactlyMaxOpen() throws Exception {
        assertEquals(List.of(3, 2, 2), pool().shares(), "7 over 3 loops, the remainder to the first");
        assertEquals(List.of(3, 2, 2), sliceMaxOpens(), "each slice's pool runs with its share as MaxOpen");
        assertEquals(7, pool().wholeSettings().maxOpen());
    }

    @Test
    void aSessionGetsTheSliceOfItsOwnLoop() throws Exception {
        PoolSlices pool = pool();
        for (int i = 0; i < loops.size(); i++) {
            BackendPool here = loops.get(i).submit(pool::here).get(5, TimeUnit.SECONDS);
            assertSame(loops.get(i), here.eventLoop());
            assertSame(pool.slices().get(i), here);
        }
        assertNotSame(pool.slices().get(0), pool.slices().get(1));
    }

    @Test
    void aRaisedOrLoweredMaxOpenIsSplitAgain() throws Exception {
        pool();
        settings.set(withMaxOpen(11));
        registry.settingsChanged();
        awaitTotal(11);
        assertEquals(11, pool().shares().stream().mapToInt(Integer::intValue).sum());

        settings.set(withMaxOpen(2));
        registry.settingsChanged();
        awaitTotal(2);
        List<Integer> shares = pool().shares();
        assertEquals(2, shares.stream().mapToInt(Integer::intValue).sum(), "the cut was paid: " + shares);
        assertTrue(shares.stream().allMatch(s -> s >= 0), shares.toString());
    }

    @Test
    void snapshotsOfTheSlicesAddUpToOnePool() throws Exception {
        PoolSnapshot merged = pool().snapshot().get(5, TimeUnit.SECONDS);
        assertEquals(DB, merged.destination());
        assertEquals(7, merged.maxOpen(), "the pool's MaxOpen, not a slice's share");
        assertEquals(0, merged.open());
    }

    @Test
    void oneLoopIsThePoolItself() throws Exception {
        EventLoop only = new DefaultEventLoop();
        PoolRegistry single = new PoolRegistry(only, new BackendConnector(Runnable::run), d -> withMaxOpen(5));
        try {
            PoolSlices pool = single.existingOrNew(DB, CREDENTIALS);
            assertEquals(1, pool.slices().size());
            assertSame(pool.slices().get(0), pool.here());
            assertEquals(5, only.submit(() -> pool.here().settings().maxOpen()).get(5, TimeUnit.SECONDS));
            assertEquals(List.of(pool.here()), List.copyOf(single.pools()));
        } finally {
            single.close();
            only.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }
}
