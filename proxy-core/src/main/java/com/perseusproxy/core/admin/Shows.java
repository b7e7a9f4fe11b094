package com.perseusproxy.core.admin;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.PoolSnapshot;
import com.perseusproxy.core.session.ClientInfo;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The SHOW commands. Column names, order and types are PgBouncer 1.18's (tested against a real one), so tools
 * written for PgBouncer read them unchanged. In PgBouncer a "database" is what clients name; here pools are per
 * backend, so a pool's database is its {@code dest_db} and its user its {@code dest_user}.
 */
final class Shows {

    private final AdminConsole console;
    private final List<PoolSnapshot> pools;
    /** Each pool's SHOW STATS counters, summed per dest_db; read once so one answer is self-consistent. */
    private final Map<String, long[]> totals = new java.util.TreeMap<>();
    private final List<ClientInfo> clients;
    /** Client id by the session leasing a server (ServerInfo.link), for SHOW SERVERS' link column. */
    private final Map<Object, Long> leaseHolders;

    /** @param pools each pool's snapshot, its slices added up (see AdminConsole.gather) */
    Shows(AdminConsole console, List<PoolSnapshot> pools, List<ClientInfo> clients, Map<Object, Long> leaseHolders) {
        this.console = console;
        this.pools = new ArrayList<>(pools);
        this.pools.sort(java.util.Comparator.comparing((PoolSnapshot p) -> p.destination().toString()));
        this.clients = clients;
        this.leaseHolders = leaseHolders;
        // Every slice of every pool: the counters are LongAdders, readable from any loop.
        for (com.perseusproxy.core.pool.BackendPool pool : console.pools().pools()) {
            StatsColumns.add(totals, pool.destination().database(), pool.stats());
        }
    }

    AdminResult show(String what) {
        return switch (what) {
            case "POOLS" -> pools();
            case "CLIENTS" -> SessionShows.clients(clients);
            case "SERVERS" -> SessionShows.servers(pools, leaseHolders);
            case "STATS" -> stats();
            case "STATS_TOTALS" -> statsTotals(false);
            case "STATS_AVERAGES" -> statsTotals(true);
            case "DATABASES" -> databases();
            case "USERS" -> users();
            case "LISTS" -> lists();
            case "CONFIG" -> ServiceShows.config(console.host());
            case "VERSION" -> ServiceShows.version();
            case "STATE" -> ServiceShows.state(pools);
            case "TENANTS" -> ServiceShows.tenants(console.pools().routes().snapshot(), clients, pools);
            case "CREDENTIALS" -> ServiceShows.credentials(pools, console.host().nextRefreshSeconds());
            case "ROTATION" -> ServiceShows.rotation(console.host());
            case "THROTTLE" -> ServiceShows.throttle(console.limits());
            case "HELP" -> ServiceShows.help();
            default -> throw new IllegalArgumentException(what); // AdminCommand admits only the above
        };
    }

    private AdminResult pools() {
        AdminResult r = new AdminResult().text("database", "user")
                .int4("cl_active", "cl_waiting", "cl_active_cancel_req", "cl_waiting_cancel_req", "sv_active",
                        "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login",
                        "maxwait", "maxwait_us")
                .text("pool_mode");
        for (PoolSnapshot p : pools) {
            int active = 0;
            int waiting = 0;
            for (ClientInfo c : clients) {
                if (p.destination().equals(c.pool())) {
                    if (c.state().equals("waiting")) {
                        waiting++;
                    } else if (c.state().equals("active")) {
                        active++;
                    }
                }
            }
            Map<String, Integer> servers = serverStates(p);
            long waitMicros = p.oldestWaitNanos() / 1000;
            r.row(p.destination().database(), p.destination().user(), active, waiting, 0, 0,
                    servers.getOrDefault("active", 0), 0, servers.getOrDefault("being_canceled", 0),
                    servers.getOrDefault("idle", 0), servers.getOrDefault("used", 0), 0,
                    servers.getOrDefault("login", 0) + p.opening(), waitMicros / 1_000_000, waitMicros % 1_000_000,
                    "transaction");
        }
        return r;
    }

    private static Map<String, Integer> serverStates(PoolSnapshot p) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        p.servers().forEach(s -> counts.merge(s.state(), 1, Integer::sum));
        return counts;
    }

    private AdminResult databases() {
        AdminResult r = new AdminResult().text("name", "host").int4("port").text("database", "force_user")
                .int4("pool_size", "min_pool_size", "reserve_pool").text("pool_mode")
                .int4("max_connections", "current_connections", "paused", "disabled");
        for (PoolSnapshot p : pools) {
            Destination d = p.destination();
            r.row(d.database(), d.host(), d.port(), d.database(), d.user(), p.maxOpen(), 0, 0, "transaction",
                    p.maxOpen(), p.open(), p.paused() ? 1 : 0, 0);
        }
        return r;
    }

    private AdminResult stats() {
        AdminResult r = new AdminResult().text("database").numeric("total_xact_count", "total_query_count",
                "total_received", "total_sent", "total_xact_time", "total_query_time", "total_wait_time",
                "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent", "avg_xact_time", "avg_query_time",
                "avg_wait_time");
        Map<String, long[]> averages = console.stats().averages(totals);
        totals.forEach((db, t) -> {
            long[] a = averages.getOrDefault(db, new long[StatsColumns.COUNT]);
            r.row(db, t[0], t[1], t[2], t[3], t[4], t[5], t[6], a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        });
        return r;
    }

    private AdminResult statsTotals(boolean averagesOnly) {
        AdminResult r = new AdminResult().text("database").numeric("xact_count", "query_count", "bytes_received",
                "bytes_sent", "xact_time", "query_time", "wait_time");
        Map<String, long[]> shown = averagesOnly ? console.stats().averages(totals) : totals;
        totals.keySet().forEach(db -> {
            long[] t = shown.getOrDefault(db, new long[StatsColumns.COUNT]);
            r.row(db, t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
        });
        return r;
    }

    private AdminResult users() {
        AdminResult r = new AdminResult().text("name", "pool_mode");
        TreeSet<String> backendUsers = new TreeSet<>();
        pools.forEach(p -> backendUsers.add(p.destination().user()));
        TreeSet<String> consoleUsers = new TreeSet<>(console.users().admins().keySet());
        consoleUsers.addAll(console.users().stats().keySet());
        backendUsers.forEach(u -> r.row(u, "transaction"));
        consoleUsers.stream().filter(u -> !backendUsers.contains(u)).forEach(u -> r.row(u, null));
        return r;
    }

    private AdminResult lists() {
        long login = clients.stream().filter(c -> c.state().equals("login")).count();
        int servers = pools.stream().mapToInt(p -> p.servers().size()).sum();
        TreeSet<String> databases = new TreeSet<>();
        TreeSet<String> users = new TreeSet<>();
        pools.forEach(p -> {
            databases.add(p.destination().database());
            users.add(p.destination().user());
        });
        AdminResult r = new AdminResult().text("list").int4("items");
        r.row("databases", databases.size()).row("users", users.size()).row("pools", pools.size())
                .row("free_clients", 0).row("used_clients", clients.size() + console.stats().sessions())
                .row("login_clients", login).row("free_servers", 0).row("used_servers", servers)
                .row("dns_names", 0).row("dns_zones", 0).row("dns_queries", 0).row("dns_pending", 0);
        return r;
    }
}
