package com.perseusproxy.core.peers;

/**
 * How a cancel key names its replica. BackendKeyData's processId is 31 bits here (positive, as PostgreSQL's pids):
 * bits 30..23 hold the replica's slot (1-255; 0 = no peers), the 23 bits below and the whole 32-bit secret key are
 * random. So a key still has 55 random bits a client cannot guess, and any replica can tell from the key alone which
 * replica issued it, without a shared table of keys.
 */
public final class CancelKeyBits {

    public static final int SLOT_SHIFT = 23;
    public static final int MAX_SLOT = 255;
    private static final int LOW_MASK = (1 << SLOT_SHIFT) - 1;

    private CancelKeyBits() {
    }

    /** A processId for this slot from random bits; slot 0 keeps all 31 bits random (a replica without peers). */
    public static int processId(int slot, int random) {
        if (slot == 0) {
            return random & 0x7fffffff;
        }
        return (slot << SLOT_SHIFT) | (random & LOW_MASK);
    }

    /** The slot a processId names (meaningful only for keys issued while peers are on). */
    public static int slotOf(int processId) {
        return (processId >>> SLOT_SHIFT) & MAX_SLOT;
    }
}
