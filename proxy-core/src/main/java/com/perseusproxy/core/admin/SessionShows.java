package com.perseusproxy.core.admin;

import com.perseusproxy.core.pool.PoolSnapshot;
import com.perseusproxy.core.pool.ServerInfo;
import com.perseusproxy.core.session.ClientInfo;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;

/**
 * SHOW CLIENTS and SHOW SERVERS: PgBouncer 1.18's socket columns, one row per client or backend connection. SHOW
 * CLIENTS adds one column after them, {@code dropped_params}: the startup parameters transaction pooling does not
 * carry (names only), so an operator sees what a client asked for and does not get. Tools read PgBouncer's columns by
 * name, so a trailing column breaks none of them.
 */
final class SessionShows {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'")
            .withZone(ZoneOffset.UTC);

    private SessionShows() {
    }

    private static AdminResult socketColumns() {
        return new AdminResult().text("type", "user", "database", "state", "addr").int4("port").text("local_addr")
                .int4("local_port").text("connect_time", "request_time").int4("wait", "wait_us", "close_needed")
                .text("ptr", "link").int4("remote_pid").text("tls", "application_name");
    }

    static AdminResult clients(Collection<ClientInfo> clients) {
        AdminResult r = socketColumns().text("dropped_params");
        long now = System.nanoTime();
        for (ClientInfo c : clients) {
            long waitMicros = c.waitNanos() / 1000;
            r.row("C", c.user(), c.database(), c.state(), host(c.remote()), port(c.remote()), host(c.local()),
                    port(c.local()), wallClock(c.connectedNanos(), now), wallClock(c.requestNanos(), now),
                    waitMicros / 1_000_000, waitMicros % 1_000_000, 0, ptr(c.id()),
                    c.backendPid() == 0 ? "" : "pid " + c.backendPid(), 0, c.tls() ? "TLS" : "",
                    c.applicationName() == null ? "" : c.applicationName(), String.join(",", c.droppedParams()));
        }
        return r;
    }

    /** @param leaseHolders the id of each client session by the session (a server's link) */
    static AdminResult servers(Collection<PoolSnapshot> pools, java.util.Map<Object, Long> leaseHolders) {
        AdminResult r = socketColumns();
        long now = System.nanoTime();
        for (PoolSnapshot p : pools) {
            for (ServerInfo s : p.servers()) {
                Long holder = s.link() == null ? null : leaseHolders.get(s.link());
                String link = holder == null ? "" : ptr(holder);
                r.row("S", p.destination().user(), p.destination().database(), s.state(), host(s.remote()),
                        port(s.remote()), host(s.local()), port(s.local()), wallClock(s.createdAtNanos(), now),
                        wallClock(s.idleSinceNanos(), now), 0, 0, p.closeNeeded() > 0 ? 1 : 0,
                        "pid " + s.processId(), link, s.processId(), s.tls() ? "TLS" : "", "");
            }
        }
        return r;
    }

    /** A session's id as SHOW CLIENTS' ptr; KILL_CLIENT takes it back. */
    static String ptr(long id) {
        return "0x" + Long.toHexString(id);
    }

    private static String wallClock(long nanos, long nowNanos) {
        return TIME.format(Instant.ofEpochMilli(System.currentTimeMillis() - (nowNanos - nanos) / 1_000_000));
    }

    private static String host(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getAddress() == null ? inet.getHostString()
                : inet.getAddress().getHostAddress() : null;
    }

    private static Integer port(SocketAddress address) {
        return address instanceof InetSocketAddress inet ? inet.getPort() : null;
    }
}
