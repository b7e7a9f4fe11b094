package com.perseusproxy.core.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so a test can assert deterministically that all of them were
 * released (the leak detector only reports after a GC). Buffers are heap buffers, so "no copy" is observable through
 * {@link ByteBuf#array()}. With {@code leakAware} they are also wrapped for Netty's leak detector (paranoid in tests).
 */
final class TrackingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> allocated = new ArrayList<>();
    private final boolean leakAware;

    TrackingAllocator() {
        this(true);
    }

    /** {@code leakAware=false} skips the leak detector's per-access stack traces, for tests that decode a lot. */
    TrackingAllocator(boolean leakAware) {
        super(false);
        this.leakAware = leakAware;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        ByteBuf buf = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
        allocated.add(buf);
        return leakAware ? toLeakAwareBuffer(buf) : buf;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return newHeapBuffer(initialCapacity, maxCapacity); // heap only: array() stays observable
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    /** A fresh tracked buffer holding {@code bytes[from, to)}. */
    ByteBuf copyOf(byte[] bytes, int from, int to) {
        return heapBuffer(to - from).writeBytes(bytes, from, to - from);
    }

    ByteBuf copyOf(byte[] bytes) {
        return copyOf(bytes, 0, bytes.length);
    }

    int allocatedCount() {
        return allocated.size();
    }

    void assertAllReleased() {
        for (int i = 0; i < allocated.size(); i++) {
            assertEquals(0, allocated.get(i).refCnt(), "buffer #" + i + " of " + allocated.size() + " not released");
        }
    }
}
