package com.perseusproxy.core.session;

import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.protocol.PgException;
import java.net.SocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One log line per login and one per logout, PgBouncer style, for operators who trace a client. What identifies the
 * client password is its position in {@code source_pass_hashed} (#1, #2 ... during a rotation), never the password
 * or its hash; an error is logged with the message the client got, which by design holds no secret. User, database
 * and schema are what the client sent, printed with {@link #printable} so a hostile name cannot forge log lines.
 */
final class SessionLog {

    private static final Logger log = LoggerFactory.getLogger(SessionLog.class);

    private final long connectedNanos = System.nanoTime();
    private long loggedInNanos;
    private long transactions;
    private long bytesFromClient;
    private long bytesToClient;
    /** What {@link #reportBytes} has already handed to the metrics. */
    private long reportedFromClient;
    private long reportedToClient;

    void fromClient(int bytes) {
        bytesFromClient += bytes;
    }

    void toClient(int bytes) {
        bytesToClient += bytes;
    }

    /**
     * Hands the bytes counted since the last call to the metrics and to the pool's stats: once per transaction and
     * at logout, so the per-message cost stays one field addition.
     */
    void reportBytes(ProxyEvents.Tenant traffic, ProxyEvents.Tenant poolTraffic) {
        long in = bytesFromClient - reportedFromClient;
        long out = bytesToClient - reportedToClient;
        if (in != 0 || out != 0) {
            traffic.bytes(in, out);
            poolTraffic.bytes(in, out); // the console's SHOW STATS
            reportedFromClient = bytesFromClient;
            reportedToClient = bytesToClient;
        }
    }

    void transactionEnded() {
        transactions++;
    }

    boolean loggedIn() {
        return loggedInNanos != 0;
    }

    void loginSucceeded(TenantStartup startup, int clientSecret, SocketAddress from) {
        loggedInNanos = System.nanoTime();
        log.info("login ok: tenant {} user {} from {}, client password #{}, {} ms", tenant(startup),
                printable(startup.user()), from, clientSecret == 0 ? "?" : clientSecret, millis(connectedNanos));
    }

    void loginFailed(TenantStartup startup, PgException error, SocketAddress from) {
        log.info("login failed: tenant {} user {} from {}, {} ms: {} {}", tenant(startup),
                startup == null ? "(none)" : printable(startup.user()), from, millis(connectedNanos),
                error.sqlState(), error.getMessage());
    }

    void loggedOut(TenantStartup startup, SocketAddress from) {
        if (!loggedIn()) {
            return;
        }
        log.info("logout: tenant {} user {} from {} after {} ms: {} transactions, {} bytes received, {} bytes sent",
                tenant(startup), printable(startup.user()), from, millis(loggedInNanos), transactions,
                bytesFromClient, bytesToClient);
    }

    private static String tenant(TenantStartup startup) {
        return startup == null ? "(none)" : printable(startup.database()) + "/" + printable(startup.schema());
    }

    private static long millis(long sinceNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
    }

    /** Control characters (a newline in a user name) become '?'; long names are cut. */
    static String printable(String text) {
        if (text == null) {
            return "(none)";
        }
        StringBuilder out = new StringBuilder(Math.min(text.length(), 128));
        for (int i = 0; i < text.length() && i < 128; i++) {
            char c = text.charAt(i);
            out.append(Character.isISOControl(c) ? '?' : c);
        }
        return text.length() > 128 ? out + "..." : out.toString();
    }
}
