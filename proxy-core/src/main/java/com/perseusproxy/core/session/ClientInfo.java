package com.perseusproxy.core.session;

import com.perseusproxy.core.backend.Destination;
import java.net.SocketAddress;

/**
 * One client session as the admin console's SHOW CLIENTS shows it, copied on the loop (no secret in it).
 *
 * @param id             the session's number, shown as SHOW CLIENTS' ptr and taken by KILL_CLIENT
 * @param state          PgBouncer's client state: active (logged in, with or without a backend), waiting (for a
 *                       backend), login (not yet logged in)
 * @param pool           the pool it leases from, or null before its login completed
 * @param backendPid     the process id of the leased backend, or 0
 * @param waitNanos      how long it has waited for a backend (0 if not waiting)
 * @param connectedNanos when it connected ({@link System#nanoTime()})
 * @param requestNanos   when its last transaction began, or connectedNanos
 * @param droppedParams  startup parameters the proxy does not carry in transaction pooling (names only: values may
 *                       be secrets), as logged once at login
 */
public record ClientInfo(long id, String user, String database, String schema, String state, SocketAddress remote,
                         SocketAddress local, long connectedNanos, long requestNanos, long waitNanos,
                         Destination pool, int backendPid, boolean tls, String applicationName,
                         java.util.List<String> droppedParams) {
}
