package com.perseusproxy.core.admin;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.pool.PoolSnapshot;
import com.perseusproxy.core.pool.TenantRoutes;
import com.perseusproxy.core.session.ClientInfo;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The SHOWs about the service rather than its connections: CONFIG, VERSION, STATE (PgBouncer's columns), and this
 * proxy's own TENANTS, CREDENTIALS and ROTATION. Credentials appear as {@code user/fingerprint} only: the first 8 hex
 * digits of a SHA-256, enough to tell two secrets apart, useless to recover either.
 */
final class ServiceShows {

    static final String VERSION = "Perseus proxy " + implementationVersion() + " (PgBouncer 1.18.0 compatible console)";

    private ServiceShows() {
    }

    static AdminResult config(AdminHost host) {
        AdminResult r = new AdminResult().text("key", "value", "default", "changeable");
        for (String[] row : host.configRows()) {
            r.row((Object[]) row);
        }
        return r;
    }

    static AdminResult version() {
        return new AdminResult().text("version").row(VERSION);
    }

    /** As PgBouncer 1.19+ (1.18 has no SHOW STATE): active, paused, suspended. */
    static AdminResult state(List<PoolSnapshot> pools) {
        boolean anyPaused = pools.stream().anyMatch(PoolSnapshot::paused);
        return new AdminResult().text("active", "paused", "suspended")
                .row(anyPaused ? "no" : "yes", anyPaused ? "yes" : "no", "no");
    }

    static AdminResult tenants(Map<TenantRoutes.Key, TenantRoute> routes, Collection<ClientInfo> clients,
                               List<PoolSnapshot> pools) {
        AdminResult r = new AdminResult().text("database", "schema", "user", "dest_host").int4("dest_port")
                .text("dest_db", "dest_user", "credential").int4("cl_active", "cl_waiting", "paused");
        routes.forEach((key, route) -> {
            int active = 0;
            int waiting = 0;
            for (ClientInfo c : clients) {
                if (key.database().equals(c.database()) && key.schema().equals(c.schema())) {
                    if (c.state().equals("waiting")) {
                        waiting++;
                    } else if (c.state().equals("active")) {
                        active++;
                    }
                }
            }
            boolean paused = pools.stream().anyMatch(p -> p.destination().equals(route.destination()) && p.paused());
            r.row(key.database(), key.schema(), route.user(), route.destination().host(), route.destination().port(),
                    route.destination().database(), route.destination().user(),
                    route.credentials() == null ? "" : route.credentials().user() + "/"
                            + route.credentials().fingerprint(), active, waiting, paused ? 1 : 0);
        });
        return r;
    }

    static AdminResult credentials(List<PoolSnapshot> pools, long nextRefreshSeconds) {
        AdminResult r = new AdminResult().text("database", "host").int4("port")
                .text("user", "live_credential", "retiring_credentials", "last_login", "login_failing")
                .int8("next_login_ms", "next_refresh_s", "server_logins");
        for (PoolSnapshot p : pools) {
            r.row(p.destination().database(), p.destination().host(), p.destination().port(), p.destination().user(),
                    p.liveCredential(), String.join(",", p.retiring()),
                    p.lastLoginError() == null ? (p.serverLogins() == 0 ? "none yet" : "ok") : p.lastLoginError(),
                    p.loginFailing() ? "yes" : "no", p.nextLoginMillis(), nextRefreshSeconds, p.serverLogins());
        }
        return r;
    }

    static AdminResult rotation(AdminHost host) {
        AdminResult r = new AdminResult().text("key", "value");
        host.rotationRows().forEach(row -> r.row((Object[]) row));
        return r;
    }

    /** The login throttle's keys that have lost tokens: who is being slowed down or refused, and how much. */
    static AdminResult throttle(com.perseusproxy.core.session.ClientLimits limits) {
        AdminResult r = new AdminResult().text("kind", "key").int8("tokens", "failures", "refused", "blocked_for_s");
        if (limits != null) {
            for (String[] row : limits.throttled()) {
                r.row(row[0], row[1], Long.parseLong(row[2]), Long.parseLong(row[3]), Long.parseLong(row[4]),
                        Long.parseLong(row[5]));
            }
        }
        return r;
    }

    static AdminResult help() {
        AdminResult r = new AdminResult().text("command");
        for (String line : List.of("SHOW POOLS|CLIENTS|SERVERS|STATS|STATS_TOTALS|STATS_AVERAGES|DATABASES|USERS",
                "SHOW LISTS|CONFIG|VERSION|STATE|TENANTS|CREDENTIALS|ROTATION|THROTTLE|HELP", "RELOAD", "PAUSE [db]",
                "RESUME [db]", "RECONNECT [db]", "KILL [db]", "KILL_CLIENT <ptr from SHOW CLIENTS>", "WAIT_CLOSE [db]",
                "SHUTDOWN [WAIT_FOR_CLIENTS]")) {
            r.row(line);
        }
        return r;
    }

    private static String implementationVersion() {
        String v = ServiceShows.class.getPackage().getImplementationVersion();
        return v == null ? "0.1.0" : v;
    }
}
