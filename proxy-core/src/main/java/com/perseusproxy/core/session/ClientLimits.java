package com.perseusproxy.core.session;

import com.perseusproxy.core.auth.LoginThrottle;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What clients may cost before their password is even checked: how many may be connected (in all, and per tenant,
 * as PgBouncer's max_client_conn and max_user_client_connections), the login throttle, and the failed-login log,
 * which says "37 failed logins from 10.0.0.5 for appdb/ws1 in the last 10 s" instead of 37 lines. Shared by every
 * data loop, so each method holds the object's lock (logins only, never a transaction); the
 * settings are read at each use, so a reload applies at once.
 */
public final class ClientLimits {

    private static final Logger log = LoggerFactory.getLogger(ClientLimits.class);
    private static final long SUMMARY_MILLIS = 10_000;

    /**
     * @param maxClients   ClientSettings.MaxClientConnections; 0 = no limit
     * @param maxPerTenant ClientSettings.MaxClientConnectionsPerTenant; 0 = no limit
     */
    public record Settings(int maxClients, int maxPerTenant, LoginThrottle.Settings throttle) {
        public static final Settings OFF = new Settings(0, 0, LoginThrottle.Settings.OFF);
    }

    private final Supplier<Settings> settings;
    private final LoginThrottle throttle = new LoginThrottle();
    private final Map<String, Integer> perTenant = new HashMap<>();
    /** Failures per "source tenant" not yet reported, and of those, refusals by the throttle. */
    private final Map<String, long[]> unreported = new LinkedHashMap<>();
    private boolean summaryScheduled;

    public ClientLimits(Supplier<Settings> settings) {
        this.settings = settings;
    }

    public Settings settings() {
        return settings.get();
    }

    public LoginThrottle throttle() {
        return throttle;
    }

    /** The throttled sources and tenants now, for SHOW THROTTLE (read under the same lock as the logins). */
    public synchronized java.util.List<String[]> throttled() {
        return throttle.throttled(settings.get().throttle());
    }

    /**
     * A client named its tenant: is there room for it?
     *
     * @param connected every client connected now, this one included
     * @return null if admitted (then {@link #leave} when it goes), else the error to send
     */
    synchronized PgException admit(int connected, String tenant) {
        Settings s = settings.get();
        if (s.maxClients() > 0 && connected > s.maxClients()) {
            return new PgException("53300", "sorry, too many clients already: the proxy serves at most "
                    + s.maxClients() + " client connections (ClientSettings.MaxClientConnections); retry later");
        }
        int current = perTenant.getOrDefault(tenant, 0);
        if (s.maxPerTenant() > 0 && current >= s.maxPerTenant()) {
            return new PgException("53300", "too many connections for tenant " + tenant + ": at most "
                    + s.maxPerTenant() + " (ClientSettings.MaxClientConnectionsPerTenant); close idle connections"
                    + " of this application or raise the limit");
        }
        perTenant.put(tenant, current + 1);
        return null;
    }

    synchronized void leave(String tenant) {
        perTenant.computeIfPresent(tenant, (k, n) -> n <= 1 ? null : n - 1);
    }

    /**
     * Marks "ask again shortly" for {@link #beginCheck}: every token left is reserved by checks in progress (a client
     * pool opening many connections at once from one address), which is no reason to refuse anyone.
     */
    public static final PgException WAIT = new PgException("53300", "login checks of this address are in progress");

    /**
     * Before a password check: null to go ahead (a token reserved), {@link #WAIT} to try again in a few milliseconds,
     * or the refusal to send (no check is made).
     */
    public synchronized PgException beginCheck(String source, String tenant) {
        LoginThrottle.Settings t = settings.get().throttle();
        LoginThrottle.Decision decision = throttle.begin(t, source, tenant);
        if (decision == LoginThrottle.Decision.PROCEED) {
            return null;
        }
        if (decision == LoginThrottle.Decision.WAIT) {
            return WAIT;
        }
        return new PgException("28000", "too many failed logins from " + source + " or for tenant " + tenant
                + " recently: try again in " + Math.max(1, throttle.retryAfterSeconds(t, source, tenant))
                + " s (ClientSettings.LoginThrottle*)");
    }

    public synchronized void checkSucceeded(String source, String tenant) {
        throttle.succeeded(settings.get().throttle(), source, tenant);
    }

    /** @return milliseconds to hold the failure's answer */
    public synchronized long checkFailed(String source, String tenant) {
        return throttle.failed(settings.get().throttle(), source, tenant);
    }

    /** How long a refusal waits before it is sent, so a guesser's loop runs slowly. */
    public long refusalDelayMillis() {
        return settings.get().throttle().delayMillis();
    }

    public static String source(SocketAddress remote) {
        return remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : String.valueOf(remote);
    }

    /**
     * A failed login (wrong password, unknown tenant, or refused by the throttle), summarized: the first of a source
     * and tenant is logged at once, the rest every 10 s as one line.
     */
    public synchronized void loginFailed(EventLoop loop, String source, String tenant, PgException error, boolean refused) {
        String key = source + " " + tenant;
        long[] counts = unreported.get(key);
        if (counts == null) {
            unreported.put(key, new long[] {0, 0});
            log.info("login failed: tenant {} from {}: {} {}", tenant, source, error.sqlState(), error.getMessage());
        } else {
            counts[0]++;
            if (refused) {
                counts[1]++;
            }
        }
        if (!summaryScheduled) {
            summaryScheduled = true;
            loop.schedule(this::summarize, SUMMARY_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    private synchronized void summarize() {
        summaryScheduled = false;
        unreported.forEach((key, counts) -> {
            if (counts[0] > 0) {
                String[] parts = key.split(" ", 2);
                log.warn("{} more failed logins from {} for tenant {} in the last {} s ({} refused by the login"
                        + " throttle without a password check)", counts[0], parts[0], parts[1],
                        SUMMARY_MILLIS / 1000, counts[1]);
            }
        });
        unreported.clear();
    }
}
