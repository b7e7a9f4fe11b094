package com.perseusproxy.core.session;

import com.perseusproxy.core.peers.CancelKeyBits;
import java.security.SecureRandom;
import java.util.function.IntSupplier;
import java.util.HashMap;
import java.util.Map;

/**
 * The BackendKeyData the proxy gives each client (random, from a secure source, so one tenant cannot guess another's
 * key and cancel its queries), and the lookup from a CancelRequest back to the session. Shared by every data loop
 * (a CancelRequest may arrive on another loop than its session's), so each method holds the object's lock; they run
 * at logins, logouts and cancels, never per transaction.
 */
public final class CancelKeys {

    private final SecureRandom random = new SecureRandom();
    private final Map<Long, ClientSession> sessions = new HashMap<>();
    /** This replica's slot (PeerDirectory), read per key: it may change when the peer row is re-registered. */
    private final IntSupplier slot;

    public CancelKeys() {
        this(() -> 0);
    }

    public CancelKeys(IntSupplier slot) {
        this.slot = slot;
    }

    /** Assigns a fresh, unused key to the session and returns {processId, secretKey}. */
    synchronized int[] register(ClientSession session) {
        for (;;) {
            int processId = CancelKeyBits.processId(slot.getAsInt(), random.nextInt());
            int secretKey = random.nextInt();
            long key = pack(processId, secretKey);
            if (processId != 0 && sessions.putIfAbsent(key, session) == null) {
                return new int[] {processId, secretKey};
            }
        }
    }

    synchronized void unregister(int processId, int secretKey) {
        sessions.remove(pack(processId, secretKey));
    }

    /** The session with this key, or null: an unknown key is ignored silently, as PostgreSQL does. */
    synchronized ClientSession find(int processId, int secretKey) {
        return sessions.get(pack(processId, secretKey));
    }

    public synchronized int size() {
        return sessions.size();
    }

    private static long pack(int processId, int secretKey) {
        return ((long) processId << 32) | (secretKey & 0xffffffffL);
    }
}
