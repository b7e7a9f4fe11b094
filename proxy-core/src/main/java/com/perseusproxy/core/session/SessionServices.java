package com.perseusproxy.core.session;

import com.perseusproxy.core.peers.PeerDirectory;
import com.perseusproxy.core.auth.Authenticator;
import com.perseusproxy.core.backend.CancelSender;
import com.perseusproxy.core.backend.TrackedSettings;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.pool.PoolRegistry;
import java.time.Duration;

/**
 * What every client session shares: login checking, the backend pools, the cancel keys, and the client-side limits.
 *
 * @param loginTimeout    a client must finish logging in within this time
 * @param cleanupTimeout  how long a backend whose client vanished may take to roll back before it is closed
 * @param maxMessageBytes the largest message a client may send
 * @param clients         every session of the loop: timeouts and graceful shutdown
 * @param tracked         the session settings carried from backend to backend (ClientSettings.TrackExtraParameters)
 * @param events          where logins, timeouts, transactions, queries and bytes are reported for metrics
 * @param console         the admin console (virtual databases pgbouncer and perseus), or null for none
 * @param limits          connection limits and the login throttle
 * @param peers           the other replicas, for CancelRequests with another replica's key
 */
public record SessionServices(Authenticator authenticator, PoolRegistry pools, CancelKeys cancelKeys,
                              CancelSender cancelSender, Duration loginTimeout, Duration cleanupTimeout,
                              int maxMessageBytes, ClientRegistry clients, TrackedSettings tracked,
                              ProxyEvents events, com.perseusproxy.core.admin.AdminConsole console,
                              ClientLimits limits, PeerDirectory peers) {

    /** Without peers. */
    public SessionServices(Authenticator authenticator, PoolRegistry pools, CancelKeys cancelKeys,
                           CancelSender cancelSender, Duration loginTimeout, Duration cleanupTimeout,
                           int maxMessageBytes, ClientRegistry clients, TrackedSettings tracked,
                           ProxyEvents events, com.perseusproxy.core.admin.AdminConsole console,
                           ClientLimits limits) {
        this(authenticator, pools, cancelKeys, cancelSender, loginTimeout, cleanupTimeout, maxMessageBytes, clients,
                tracked, events, console, limits, PeerDirectory.NONE);
    }

    /** With the default tracked settings, reporting to no metrics, without connection limits or login throttle. */
    public SessionServices(Authenticator authenticator, PoolRegistry pools, CancelKeys cancelKeys,
                           CancelSender cancelSender, Duration loginTimeout, Duration cleanupTimeout,
                           int maxMessageBytes, ClientRegistry clients,
                           com.perseusproxy.core.admin.AdminConsole console) {
        this(authenticator, pools, cancelKeys, cancelSender, loginTimeout, cleanupTimeout, maxMessageBytes, clients,
                TrackedSettings.DEFAULT, ProxyEvents.NONE, console, new ClientLimits(() -> ClientLimits.Settings.OFF));
    }

    /** Without an admin console, with the default tracked settings, reporting to no metrics. */
    public SessionServices(Authenticator authenticator, PoolRegistry pools, CancelKeys cancelKeys,
                           CancelSender cancelSender, Duration loginTimeout, Duration cleanupTimeout,
                           int maxMessageBytes, ClientRegistry clients) {
        this(authenticator, pools, cancelKeys, cancelSender, loginTimeout, cleanupTimeout, maxMessageBytes, clients,
                (com.perseusproxy.core.admin.AdminConsole) null);
    }
}
