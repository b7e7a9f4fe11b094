package com.perseusproxy.server.leak;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * After each test class: collect garbage, make the leak detector look at what was collected, and fail if any ByteBuf
 * was garbage-collected without being released. Registered for every test by service loading
 * ({@code junit-platform.properties} enables autodetection).
 */
public final class LeakCheckExtension implements AfterAllCallback {

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50);
            // The detector polls its reference queue when a new buffer is tracked.
            for (int i = 0; i < 100; i++) {
                ByteBuf probe = PooledByteBufAllocator.DEFAULT.buffer(8);
                probe.release();
            }
        }
        String leaks = String.join("\n\n", RecordingLeakDetector.LEAKS);
        RecordingLeakDetector.LEAKS.clear();
        assertTrue(leaks.isEmpty(), "Netty buffers leaked during " + context.getDisplayName() + ":\n" + leaks);
    }
}
