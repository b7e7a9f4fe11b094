package com.perseusproxy.core.peers;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What this replica knows about its peers: its own slot (the replica number carried in the high bits of every cancel
 * key it hands out, see {@link CancelKeyBits}), the client address of each live peer by slot, and how many replicas
 * are live. Written by the peer heartbeat (a thread of its own) as one immutable snapshot, read lock-free on the
 * data loop when a CancelRequest arrives.
 */
public final class PeerDirectory {

    /** A replica without peers: slot 0, so its keys are plain random and no cancel is ever forwarded. */
    public static final PeerDirectory NONE = new PeerDirectory();

    /**
     * One consistent view: slot, peers by slot (self excluded), live replicas (self included) and this replica's
     * rank among them by slot (0-based), which decides who gets the remainder of a global budget.
     *
     * @param allowances null without published bounds (a static peer list, or a perseus_peers table without the
     *                   {@code bounds} column): the share is then the fair one alone. Otherwise, per destination key
     *                   ({@link BudgetBounds#key}), the connections this replica may open, as computed and published
     *                   at its last heartbeat; a destination missing here may open none until the next one.
     */
    public record View(int ownSlot, Map<Integer, InetSocketAddress> peers, int liveCount, int rank,
                       Map<String, Integer> allowances) {
        public View {
            peers = Map.copyOf(peers);
            allowances = allowances == null ? null : Map.copyOf(allowances);
        }

        public View(int ownSlot, Map<Integer, InetSocketAddress> peers, int liveCount, int rank) {
            this(ownSlot, peers, liveCount, rank, null);
        }

        /** The view when this replica holds {@code ownSlot} and the given peers are live. */
        public static View of(int ownSlot, Map<Integer, InetSocketAddress> peers) {
            return of(ownSlot, peers, null);
        }

        /** The same, with the allowances of this heartbeat (see {@link BudgetBounds}). */
        public static View of(int ownSlot, Map<Integer, InetSocketAddress> peers, Map<String, Integer> allowances) {
            int rank = (int) peers.keySet().stream().filter(s -> s < ownSlot).count();
            return new View(ownSlot, peers, peers.size() + 1, rank, allowances);
        }
    }

    private volatile View view = new View(0, Map.of(), 1, 0);
    private final AtomicLong forwarded = new AtomicLong();
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    public void update(View next) {
        view = next;
    }

    public View view() {
        return view;
    }

    public int ownSlot() {
        return view.ownSlot();
    }

    /** The live peer holding this slot, or null (none, or this replica itself). */
    public InetSocketAddress addressOf(int slot) {
        View v = view;
        return slot == v.ownSlot() ? null : v.peers().get(slot);
    }

    /** Cancel requests this replica sent on to the peer owning the key. */
    public long forwardedCount() {
        return forwarded.get();
    }

    /** Cancel requests a peer sent on to this replica. */
    public long receivedCount() {
        return received.get();
    }

    /** Cancel requests for a key no live replica owns (dropped quietly, as PostgreSQL drops an unknown key). */
    public long droppedCount() {
        return dropped.get();
    }

    void countForwarded() {
        forwarded.incrementAndGet();
    }

    public void countReceived() {
        received.incrementAndGet();
    }

    void countDropped() {
        dropped.incrementAndGet();
    }
}
