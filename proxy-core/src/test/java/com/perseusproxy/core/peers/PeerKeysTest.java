package com.perseusproxy.core.peers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PeerKeysTest {

    @Test
    void aKeyCarriesItsSlotAndStaysAPositiveProcessId() {
        Random random = new Random(7);
        for (int slot = 1; slot <= CancelKeyBits.MAX_SLOT; slot++) {
            for (int i = 0; i < 50; i++) {
                int pid = CancelKeyBits.processId(slot, random.nextInt());
                assertTrue(pid > 0, "PostgreSQL's pids are positive; libpq prints them");
                assertEquals(slot, CancelKeyBits.slotOf(pid));
            }
        }
        assertTrue(CancelKeyBits.processId(0, -1) > 0, "without peers all 31 bits stay random");
    }

    @Test
    void sharesAddUpToTheBudgetExactly() {
        for (int global = 1; global <= 40; global++) {
            for (int live = 1; live <= 7; live++) {
                int sum = 0;
                for (int rank = 0; rank < live; rank++) {
                    int share = GlobalBudget.share(global, live, rank);
                    assertTrue(share >= 1);
                    sum += share;
                }
                assertEquals(Math.max(global, live), sum, global + " over " + live);
            }
        }
        assertEquals(2, GlobalBudget.share(6, 3, 0));
        assertEquals(3, GlobalBudget.share(6, 2, 1));
    }

    @Test
    void theOwnSlotIsNeverAForwardingTarget() {
        PeerDirectory directory = new PeerDirectory();
        InetSocketAddress other = new InetSocketAddress("127.0.0.1", 1);
        directory.update(PeerDirectory.View.of(2, Map.of(1, other, 3, other)));
        assertNull(directory.addressOf(2));
        assertEquals(other, directory.addressOf(3));
        assertNull(directory.addressOf(4), "no live peer holds slot 4: the cancel is dropped");
        assertEquals(3, directory.view().liveCount());
        assertEquals(1, directory.view().rank(), "slot 1 ranks before this replica's slot 2");
    }
}
