package com.perseusproxy.core.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.perseusproxy.core.backend.Destination;
import org.junit.jupiter.api.Test;

/** The arithmetic of published bounds, replayed heartbeat by heartbeat for a replica joining two others. */
class BudgetBoundsTest {

    @Test
    void aJoinerGrowsOnlyAsTheOthersShrink() {
        // Two replicas hold 3 each of 6 and published 3 each; a third joins and sees three live.
        int joiner = BudgetBounds.allowed(6, 3, 2, 3 + 3);
        assertEquals(0, joiner, "nothing is left until the others shrink");
        // The first old replica's next heartbeat: fair share 2, but its 3 connections are still open.
        int first = BudgetBounds.allowed(6, 3, 0, 3 + 0);
        assertEquals(2, first);
        assertEquals(3, BudgetBounds.published(first, 2, 3), "it publishes what it still holds");
        // Once one connection came back it publishes 2; the second does the same; the joiner then gets its 2.
        assertEquals(2, BudgetBounds.published(2, 2, 2));
        assertEquals(2, BudgetBounds.allowed(6, 3, 2, 2 + 2));
    }

    @Test
    void theFairShareStillCapsEachReplicaAndTheRemainderGoesByRank() {
        assertEquals(3, BudgetBounds.allowed(7, 3, 0, 0));
        assertEquals(2, BudgetBounds.allowed(7, 3, 1, 0));
        assertEquals(2, BudgetBounds.allowed(7, 3, 2, 0));
        assertEquals(0, BudgetBounds.allowed(6, 2, 0, 9), "never negative, even if the others over-published");
    }

    @Test
    void theKeyNamesHostPortAndDatabaseButNotTheUser() {
        assertEquals("db.internal:5432/app", BudgetBounds.key(new Destination("db.internal", 5432, "app", "odd")));
        assertEquals(BudgetBounds.key(new Destination("h", 6432, "d", "odd")),
                BudgetBounds.key(new Destination("h", 6432, "d", "even")));
    }
}
