package com.perseusproxy.core.admin;

import com.perseusproxy.core.auth.PasswordVerifier;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolSlices;
import com.perseusproxy.core.pool.PoolSnapshot;
import com.perseusproxy.core.protocol.StartupPacket;
import com.perseusproxy.core.session.ClientInfo;
import com.perseusproxy.core.session.ClientSession;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The admin console: the virtual databases {@code pgbouncer} and {@code perseus} on the client port, as in PgBouncer.
 * A client session whose StartupMessage names one of them hands its channel over here ({@link #takeOver}); from then
 * on an {@link AdminSession} speaks to it. A console session runs on the data loop that accepted it; what it shows
 * or changes of the pools and sessions is read or done on each data loop by a posted task ({@link #gather}), so it
 * never touches another loop's state and never blocks: the password check and the reload run elsewhere.
 */
public final class AdminConsole {

    /** The database names that reach the console instead of a tenant. */
    public static final Set<String> DATABASES = Set.of("pgbouncer", "perseus");
    /** What SHOW VERSION answers; it names PgBouncer's version so that tools parsing it keep working. */
    public static final String VERSION = ServiceShows.VERSION;

    private final PasswordVerifier verifier;
    private final Supplier<AdminUsers> users;
    private final PoolRegistry pools;
    private final Supplier<Collection<ClientSession>> clients;
    private final Duration loginTimeout;
    private final ConsoleStats stats = new ConsoleStats();
    private final com.perseusproxy.core.auth.MockScram mockScram = new com.perseusproxy.core.auth.MockScram();
    private volatile AdminHost host = AdminHost.NONE;
    private volatile com.perseusproxy.core.session.ClientLimits limits;

    /**
     * @param users   who may log in; read at each login, so a reload applies to the next one
     * @param clients the client sessions of the calling data loop (asked on each loop in turn)
     */
    public AdminConsole(PasswordVerifier verifier, Supplier<AdminUsers> users, PoolRegistry pools,
                        Supplier<Collection<ClientSession>> clients, Duration loginTimeout) {
        this.verifier = verifier;
        this.users = users;
        this.pools = pools;
        this.clients = clients;
        this.loginTimeout = loginTimeout;
    }

    /** Whether a StartupMessage naming this database is for the console. */
    public static boolean claims(String database) {
        return database != null && DATABASES.contains(database.toLowerCase(Locale.ROOT));
    }

    /** The service behind the console (config, reload, shutdown); set once the service is assembled. */
    public void host(AdminHost newHost) {
        this.host = newHost;
    }

    /**
     * Replaces {@code current} (the client session that read the StartupMessage) with a console session and starts
     * its login.
     */
    public void takeOver(Channel channel, ChannelHandler current, StartupPacket.Startup startup) {
        AdminSession session = new AdminSession(this, startup.parameters());
        channel.pipeline().replace(current, "admin-console", session);
        session.start();
    }

    /** The login throttle and connection limits, for SHOW THROTTLE. */
    public void limits(com.perseusproxy.core.session.ClientLimits clientLimits) {
        this.limits = clientLimits;
    }

    com.perseusproxy.core.session.ClientLimits limits() {
        return limits;
    }

    PasswordVerifier verifier() {
        return verifier;
    }

    AdminUsers users() {
        return users.get();
    }

    PoolRegistry pools() {
        return pools;
    }

    /** The client sessions of the calling data loop. */
    private Collection<ClientSession> clients() {
        return clients.get();
    }

    AdminHost host() {
        return host;
    }

    Duration loginTimeout() {
        return loginTimeout;
    }

    /** The salts unknown console users are challenged with when console users log in with SCRAM. */
    com.perseusproxy.core.auth.MockScram mockScram() {
        return mockScram;
    }

    ConsoleStats stats() {
        return stats;
    }

    /** The console's own sessions, for SHOW LISTS and SHOW POOLS' pgbouncer row; console sessions on any loop. */
    static final class ConsoleStats {
        /** PgBouncer's stats_period: the averages are per second over about this long. */
        private static final long PERIOD_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(15);
        private int sessions;
        private long sampleNanos;
        private java.util.Map<String, long[]> sample = java.util.Map.of();

        /**
         * The averages since the last sample (taken at most every 15 s), as {@link StatsColumns}; synchronized, as
         * console sessions on different data loops may ask at once.
         */
        synchronized java.util.Map<String, long[]> averages(java.util.Map<String, long[]> totals) {
            long now = System.nanoTime();
            java.util.Map<String, long[]> rates = new java.util.HashMap<>();
            double seconds = (now - sampleNanos) / 1e9;
            if (sampleNanos != 0 && seconds >= 1) {
                totals.forEach((db, t) -> {
                    rates.put(db, StatsColumns.averages(t, sample.getOrDefault(db, new long[t.length]), seconds));
                });
            }
            if (sampleNanos == 0 || now - sampleNanos >= PERIOD_NANOS) {
                java.util.Map<String, long[]> copy = new java.util.HashMap<>();
                totals.forEach((db, t) -> copy.put(db, t.clone()));
                sample = copy;
                sampleNanos = now;
            }
            return rates;
        }

        synchronized void opened() {
            sessions++;
        }

        synchronized void closed() {
            sessions--;
        }

        synchronized int sessions() {
            return sessions;
        }
    }

    /** One data loop's sessions as the SHOWs read them, copied on that loop. */
    private record LoopClients(List<ClientInfo> infos, Map<Object, Long> leaseHolders) {
    }

    /**
     * What the SHOW commands read, gathered on every data loop (each copies its own slices and sessions), so the
     * console never reads another loop's state; complete on return with one loop.
     */
    CompletableFuture<Shows> gather() {
        List<CompletableFuture<PoolSnapshot>> snapshots = pools.destinations().stream()
                .map(PoolSlices::snapshot).toList();
        CompletableFuture<List<LoopClients>> perLoop = pools.loops().onEach(i -> {
            List<ClientInfo> infos = new ArrayList<>();
            Map<Object, Long> holders = new IdentityHashMap<>();
            for (ClientSession session : clients()) {
                ClientInfo info = session.info();
                infos.add(info);
                holders.put(session, info.id()); // a server's link is the session that leases it
            }
            return new LoopClients(infos, holders);
        });
        return CompletableFuture.allOf(snapshots.toArray(CompletableFuture[]::new)).thenCombine(perLoop, (v, loops) -> {
            List<ClientInfo> infos = new ArrayList<>();
            Map<Object, Long> holders = new IdentityHashMap<>();
            loops.forEach(l -> {
                infos.addAll(l.infos());
                holders.putAll(l.leaseHolders());
            });
            return new Shows(this, snapshots.stream().map(CompletableFuture::join).toList(), infos, holders);
        });
    }

    /**
     * Runs {@code action} on every client session, each on its own loop; completes with how many it was run on
     * (those for which {@code which} held).
     */
    CompletableFuture<Integer> forEachClient(java.util.function.Predicate<ClientSession> which,
                                             java.util.function.Consumer<ClientSession> action) {
        return pools.loops().onEach(i -> {
            int done = 0;
            for (ClientSession session : new ArrayList<>(clients())) {
                if (which.test(session)) {
                    action.accept(session);
                    done++;
                }
            }
            return done;
        }).thenApply(counts -> counts.stream().mapToInt(Integer::intValue).sum());
    }
}
