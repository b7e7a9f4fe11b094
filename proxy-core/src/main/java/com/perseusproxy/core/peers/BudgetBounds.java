package com.perseusproxy.core.peers;

import com.perseusproxy.core.backend.Destination;

/**
 * GlobalMaxOpen with published bounds, so the replicas together never exceed it, even while they disagree on who is
 * live (a joiner is seen by the others only at their next heartbeat). Each replica's row in perseus_peers carries, per
 * destination, an upper bound of what it may hold; a replica may open only what its own published bound covers:
 *
 * <pre>
 *   allowed   = min(fair share, GlobalMaxOpen - the bounds the other live replicas published)   (at least 0)
 *   published = max(allowed, the limit in force, the connections open)
 * </pre>
 *
 * The heartbeats run one at a time across the replicas (each locks every live row, in id order, for its
 * read-compute-publish step), and the new allowance is applied only after it is published. So the published bounds
 * never add up to more than the budget, and no replica holds more than it published: a shrinking replica keeps
 * publishing its open connections until they have come back, and a joiner grows only as the others shrink.
 */
public final class BudgetBounds {

    private BudgetBounds() {
    }

    /** The key a destination's bound is published under: {@code host:port/database} (not the user). */
    public static String key(Destination d) {
        return d.host() + ":" + d.port() + "/" + d.database();
    }

    /** What this replica may open: its fair share, less whatever the others' published bounds leave no room for. */
    public static int allowed(int global, int liveCount, int rank, int othersPublished) {
        int live = Math.max(1, liveCount);
        int fair = global / live + (rank < global % live ? 1 : 0);
        return Math.max(0, Math.min(fair, global - othersPublished));
    }

    /** What this replica publishes: never less than it may hold now or holds. */
    public static int published(int allowed, int inForce, int open) {
        return Math.max(allowed, Math.max(inForce, open));
    }
}
