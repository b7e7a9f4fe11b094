package com.perseusproxy.core.pool;

import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntFunction;

/**
 * The proxy's data event loops (WorkerThreads of them). Each owns the client sessions it accepted and one slice of
 * every pool, so the pooling state of a loop is touched by that loop alone and needs no lock. What concerns all
 * loops (the console, the drain, a reload) runs a task on each and combines the answers.
 */
public final class DataLoops {

    private final EventLoop[] loops;

    public DataLoops(List<EventLoop> loops) {
        if (loops.isEmpty()) {
            throw new IllegalArgumentException("at least one data loop");
        }
        this.loops = loops.toArray(EventLoop[]::new);
    }

    /** One loop: the proxy as PgBouncer runs, single-threaded. */
    public static DataLoops of(EventLoop loop) {
        return new DataLoops(List.of(loop));
    }

    public int size() {
        return loops.length;
    }

    public EventLoop get(int index) {
        return loops[index];
    }

    public List<EventLoop> all() {
        return Arrays.asList(loops);
    }

    /** The index of the loop running the caller, or -1 when the caller is no data loop. */
    public int current() {
        for (int i = 0; i < loops.length; i++) {
            if (loops[i].inEventLoop()) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Runs {@code task} on every loop (given the loop's index) and completes with the answers in loop order. With one
     * loop and a caller already on it, the task runs at once and the future is complete on return, as before there
     * were several loops.
     */
    public <T> CompletableFuture<List<T>> onEach(IntFunction<T> task) {
        if (loops.length == 1 && loops[0].inEventLoop()) {
            try {
                return CompletableFuture.completedFuture(java.util.Collections.singletonList(task.apply(0)));
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
        List<CompletableFuture<T>> parts = new ArrayList<>(loops.length);
        for (int i = 0; i < loops.length; i++) {
            int index = i;
            CompletableFuture<T> part = new CompletableFuture<>();
            loops[i].execute(() -> {
                try {
                    part.complete(task.apply(index));
                } catch (RuntimeException e) {
                    part.completeExceptionally(e);
                }
            });
            parts.add(part);
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                .thenApply(v -> parts.stream().map(CompletableFuture::join).toList());
    }
}
