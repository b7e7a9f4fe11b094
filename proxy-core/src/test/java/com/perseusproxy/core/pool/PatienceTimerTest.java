package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.TenantKey;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One timer for every patient wait: each still waiting is told once its patience is over, in order; served ones not. */
class PatienceTimerTest {

    private static final long PATIENCE = TimeUnit.MILLISECONDS.toNanos(300);
    private final EmbeddedChannel loopOwner = new EmbeddedChannel();
    private final List<TenantKey> over = new ArrayList<>();
    private final PatienceTimer timer = new PatienceTimer(loopOwner.eventLoop(), () -> PATIENCE,
            (promise, tenant) -> over.add(tenant));

    @AfterEach
    void tearDown() {
        loopOwner.finishAndReleaseAll();
    }

    private Promise<BackendConnection> promise() {
        return loopOwner.eventLoop().newPromise();
    }

    @Test
    void eachPatientStillWaitingIsToldOnceInOrderAndServedOnesAreSkipped() throws InterruptedException {
        TenantKey a = new TenantKey("appdb", "tenant_a");
        TenantKey b = new TenantKey("appdb", "tenant_b");
        TenantKey c = new TenantKey("appdb", "tenant_c");
        timer.start(promise(), a, System.nanoTime());
        Promise<BackendConnection> served = promise();
        timer.start(served, b, System.nanoTime());
        Thread.sleep(150);
        timer.start(promise(), c, System.nanoTime());
        served.cancel(false); // its session got a connection (or left) meanwhile

        loopOwner.runScheduledPendingTasks();
        assertEquals(List.of(), over, "nobody's patience is over yet");
        Thread.sleep(200); // a's and b's 300 ms are over, c's not
        loopOwner.runScheduledPendingTasks();
        assertEquals(List.of(a), over, "a is told; b was served and is skipped");
        Thread.sleep(200);
        loopOwner.runScheduledPendingTasks();
        assertEquals(List.of(a, c), over, "the one timer, set again, tells c");
        assertEquals(0, timer.size());
        loopOwner.runScheduledPendingTasks();
        assertEquals(List.of(a, c), over, "nobody is told twice");
    }
}
