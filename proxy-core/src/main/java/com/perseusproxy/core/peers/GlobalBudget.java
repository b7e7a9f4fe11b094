package com.perseusproxy.core.peers;

/**
 * Splits {@code GlobalMaxOpen} among the live replicas: each gets {@code global / live}, and the first
 * {@code global % live} replicas by slot one more, so the shares add up to exactly the budget (a plain
 * {@code ceil(global / live)} each would overshoot it, 3 × ceil(7 / 3) = 9). Every replica computes its own share
 * from the same peers table, so no coordination is needed beyond the heartbeat. A share is at least 1, so a budget
 * smaller than the replica count is exceeded rather than leaving a replica unable to serve. This is the share when
 * no bounds are published (a static peer list, or a perseus_peers table without its bounds column); with them,
 * {@link BudgetBounds} decides.
 */
public final class GlobalBudget {

    private GlobalBudget() {
    }

    public static int share(int global, int liveCount, int rank) {
        return Math.max(1, exactShare(global, liveCount, rank));
    }

    /**
     * The same split without the floor of 1: the shares of ranks 0 to {@code parts - 1} add up to exactly
     * {@code total}, even when some are 0 (a pool's slices, which borrow from each other; see PoolSlice).
     */
    public static int exactShare(int total, int parts, int rank) {
        int n = Math.max(1, parts);
        return total / n + (rank < total % n ? 1 : 0);
    }
}
