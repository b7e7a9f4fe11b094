package com.perseusproxy.core.pool;

import com.perseusproxy.core.statements.KnownStatements;
import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.ConnectionOwner;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.backend.TenantKey;
import com.perseusproxy.core.protocol.PgException;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.HashSet;
import java.util.Set;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend connections of one destination, shared by every tenant routed there.
 *
 * <p>Vocabulary: a client session <em>acquires</em> a connection for one transaction and <em>releases</em> it at the
 * transaction's end. Idle connections are kept most-recently-used first, so the surplus ages out through
 * MaxIdletime. Waiters ({@link WaitQueue}) are served first come, first served, and give up after QueryWaitTimeoutSecs. A connection that
 * dies is dropped and never handed out again. Every method runs on the pool's event loop.
 *
 * <p>Credential rotation: new connections log in with the pool's {@link CredentialSet} through a
 * {@link BackendLoginAttempt}. A <em>stale</em> connection (past MaxLifetime, or logged in with credentials that are no
 * longer current) is retired only when idle, and only while logins are known to work: PostgreSQL keeps an open
 * connection valid after {@code ALTER ROLE ... PASSWORD}, so during a rotation the old connections keep serving until
 * a login with the new password has succeeded. While logins fail, a {@link LoginBackoff} spaces the attempts and
 * waiters are failed only when no open connection could serve them.
 */
public final class BackendPool implements ConnectionOwner {

    private static final Logger log = LoggerFactory.getLogger(BackendPool.class);

    private final Destination destination;
    private final EventLoop loop;
    private final BackendConnector connector;
    private final Supplier<PoolSettings> settings;
    private final PoolStats stats = new PoolStats();
    /** Metrics beyond Perseus's: set once, on the loop, right after the pool is made (see PoolRegistry). */
    private ProxyEvents events = ProxyEvents.NONE;
    private ProxyEvents.Pool poolEvents = ProxyEvents.Pool.NONE;
    private final KnownStatements knownStatements = new KnownStatements();
    private final ServerProfile serverProfile = new ServerProfile();
    private final ArrayDeque<BackendConnection> idle = new ArrayDeque<>();
    private final WaitQueue waiters;
    /** The connections counted in {@code open}: those whose login succeeded and that have not closed yet. */
    private final Set<BackendConnection> members = new HashSet<>();
    private final CredentialSet credentials;
    private final CredentialSource credentialSource;
    private final LoginBackoff backoff = new LoginBackoff();
    /** PAUSE, RESUME, RECONNECT and KILL from the admin console. */
    private final PoolConsole console;
    private final CredentialProbe probe = new CredentialProbe();
    /** Logins sent to the server, each candidate counted: what a wrong password costs the database. */
    private final AtomicLong serverLogins = new AtomicLong();
    private ScheduledFuture<?> retryTimer;
    /** Whether a stale connection may be retired now. */
    private final StaleRetirement retirement;
    private boolean retired;
    /** Runs when a lease has to wait because the pool is at MaxOpen; set once by a {@link PoolSlice}. */
    private Runnable onFull = () -> { };
    private int open;
    private int creating;

    public BackendPool(Destination destination, BackendCredentials credentials, EventLoop loop,
                       BackendConnector connector, Supplier<PoolSettings> settings) {
        this(destination, credentials, loop, connector, settings, CredentialSource.NONE);
    }

    /** @param credentialSource re-reads the destination's credentials when every known one is refused */
    public BackendPool(Destination destination, BackendCredentials credentials, EventLoop loop,
                       BackendConnector connector, Supplier<PoolSettings> settings,
                       CredentialSource credentialSource) {
        this.destination = destination;
        this.credentials = new CredentialSet(credentials);
        this.credentialSource = credentialSource;
        this.loop = loop;
        this.connector = connector;
        this.settings = settings;
        this.waiters = new WaitQueue(loop, settings, stats, this::giveUp, wait -> poolEvents.leased(wait));
        waiters.onUnclaimed(this::keepIdle);
        this.console = new PoolConsole(this, loop, waiters, stats, members);
        this.retirement = new StaleRetirement(destination, this.credentials, backoff, stats);
    }

    public Destination destination() {
        return destination;
    }

    public PoolStats stats() {
        return stats;
    }

    /** Reports leases, backend logins and rotation events to {@code events} from now on. */
    void reportTo(ProxyEvents events) {
        this.events = events;
        this.poolEvents = events.pool(destination);
    }

    /** What to run when a lease waits because the pool is at MaxOpen (called once, before the pool is used). */
    void onFull(Runnable hook) {
        this.onFull = hook;
    }

    /** Named prepared statements a backend of this pool has parsed successfully. */
    public KnownStatements knownStatements() {
        return knownStatements;
    }

    public ServerProfile serverProfile() {
        return serverProfile;
    }

    public EventLoop eventLoop() {
        return loop;
    }

    /** The settings in force now (they may change at run time). */
    public PoolSettings settings() {
        return settings.get();
    }

    /**
     * What perseus_auth says now (a login or a refresh read it). New connections try the credentials that last worked
     * first and these next; open ones keep what they logged in with (the server keeps them valid).
     */
    public void updateCredentials(BackendCredentials latest) {
        assert loop.inEventLoop();
        if (credentials.offerLatest(latest)) {
            events.rotation(ProxyEvents.Rotation.CREDENTIALS_CHANGED);
            log.info("pool {}: perseus_auth now gives credentials {}", destination, latest);
            if (backoff.failing()) {
                backoff.retryNow(System.nanoTime()); // the fix may have arrived: no need to wait out the backoff
                probeLogin();
            } else if (!latest.equals(credentials.current())) {
                probe.newLatest(System.nanoTime());
                probeNewCredentials();
            }
        }
    }

    /** The credentials new connections are expected to log in with (the last that worked). */
    public BackendCredentials currentCredentials() {
        return credentials.current();
    }

    /** Whether logins to the destination are failing now (the pool backs off and keeps serving on open ones). */
    public boolean failingLogins() {
        return backoff.failing();
    }

    /** Logins the pool has sent to the server, every candidate counted. */
    public long serverLoginCount() {
        return serverLogins.get();
    }

    /**
     * No tenant routes here any more (an account switch moved them): idle connections close now, leased ones when
     * returned. A later acquire revives the pool.
     */
    public void retire() {
        assert loop.inEventLoop();
        if (!retired) {
            retired = true;
            events.rotation(ProxyEvents.Rotation.POOL_RETIRED);
            log.info("pool {}: no tenant routes here any more; closing its connections as they become idle",
                    destination);
        }
        closeIdle();
    }

    /** Gets a connection for one transaction: an idle one, a new one, or the next one released. */
    public Future<BackendConnection> acquire() {
        return acquire(null);
    }

    /**
     * Gets a connection for one transaction of {@code tenant}: preferably an idle one that last served the same
     * tenant (it needs no reset), else the most recently used idle one, a new one, or the next one released.
     */
    public Future<BackendConnection> acquire(TenantKey tenant) {
        assert loop.inEventLoop();
        if (console.paused()) {
            return console.holdWhilePaused(tenant);
        }
        retired = false;
        Promise<BackendConnection> promise = loop.newPromise();
        serve(promise, tenant);
        return promise;
    }

    /** An idle connection for the promise now (checked first if idle long), else a place in the queue. */
    private void serve(Promise<BackendConnection> promise, TenantKey tenant) {
        long now = System.nanoTime();
        BackendConnection lingering = waiters.takeLingering(tenant);
        if (lingering != null) {
            promise.setSuccess(lingering); // its tenant is back in time: no reset (see WaitQueue)
            return;
        }
        if (waiters.isEmpty()) {
            BackendConnection connection = pollIdle(now, tenant);
            if (connection != null) {
                if (needsLivenessCheck(connection, now)) {
                    checkThenHandOut(connection, promise, tenant);
                    return;
                }
                stats.leased();
                poolEvents.leased(0);
                promise.setSuccess(connection);
                return;
            }
        }
        boolean full = open >= settings.get().maxOpen();
        waiters.add(promise, now, full, tenant);
        if (full) {
            onFull.run(); // a slice asks its siblings for a unit of MaxOpen (PoolSlice)
        }
        openMoreIfNeeded();
    }

    /** ServerCheckDelaySecs: a connection idle longer than this may have been dropped (a firewall, a restart). */
    private boolean needsLivenessCheck(BackendConnection connection, long now) {
        return now - connection.idleSinceNanos() >= settings.get().serverCheckDelay().toNanos();
    }

    /**
     * Hands out {@code connection} once the server has answered an empty query; a dead one is closed and the promise
     * served again (another idle connection, a new one, or the queue), so the client never sees it.
     */
    private void checkThenHandOut(BackendConnection connection, Promise<BackendConnection> promise,
                                  TenantKey tenant) {
        connection.checkAlive(settings.get().connCreateTimeout()).addListener(f -> {
            if (f.isSuccess()) {
                stats.leased();
                poolEvents.leased(0);
                if (!promise.trySuccess(connection)) {
                    release(connection); // the client left meanwhile
                }
                return;
            }
            log.info("pool {}: {}; replacing it", destination, f.cause().getMessage());
            if (!promise.isDone()) {
                serve(promise, tenant);
            }
        });
    }

    /**
     * The settings were reloaded. A raised MaxOpen lets waiters in at once (new connections open now); a lowered one
     * closes idle connections above it now and leased ones as they are returned ({@link #release}), never one in use.
     */
    public void settingsChanged() {
        assert loop.inEventLoop();
        PoolSettings current = settings.get();
        // open counts down only when each close completes (onClosed), so count the surplus once.
        for (int surplus = open - current.maxOpen(); surplus > 0 && !idle.isEmpty(); surplus--) {
            close(idle.removeLast());
        }
        openMoreIfNeeded();
    }

    /** Takes back a connection whose transaction ended cleanly. */
    @Override
    public void release(BackendConnection connection) {
        assert loop.inEventLoop();
        takeBack(connection);
        console.afterRelease();
    }

    private void takeBack(BackendConnection connection) {
        connection.endLease();
        if (connection.holdForCancel()) {
            return; // comes back through release() once the cancel has been delivered
        }
        stats.returned();
        long now = System.nanoTime();
        if (!connection.isUsable()) {
            return; // onClosed does the accounting
        }
        if (retired || console.takeCloseOnRelease(connection)) {
            close(connection);
            openMoreIfNeeded();
            return;
        }
        if (retirement.isStale(connection, now) && retirement.mayRetire(now, creating)) {
            if (open > 1 || settings.get().maxOpen() == 1) {
                retireStale(connection, now);
                openMoreIfNeeded();
                return;
            }
            // The last connection: log in its replacement first, and retire it once that worked.
            startLogin(settings.get());
        }
        if (open > settings.get().maxOpen()) {
            close(connection); // MaxOpen was lowered by a reload: shrink as connections come back
            return;
        }
        if (probeWaitsForRoom(now)) {
            close(connection); // its slot goes to the login that tries the new credentials (onClosed starts it)
            return;
        }
        connection.markIdle(now);
        if (handToWaiter(connection, now)) {
            return;
        }
        keepIdle(connection);
    }

    /** A connection nobody waits for: into the idle list, or closed if MaxIdle are idle already. */
    private void keepIdle(BackendConnection connection) {
        if (!connection.isUsable()) {
            return; // closed meanwhile (a lingering one): onClosed did the accounting
        }
        if (idle.size() >= settings.get().maxIdle()) {
            stats.closedForMaxIdle();
            close(connection);
            return;
        }
        idle.push(connection);
    }

    @Override
    public void onClosed(BackendConnection connection) {
        assert loop.inEventLoop();
        console.closed(connection);
        waiters.closed(connection);
        if (!members.remove(connection)) {
            return; // its login failed: already uncounted when the attempt failed
        }
        if (idle.remove(connection)) {
            log.debug("idle backend of {} closed", destination);
        }
        open--;
        openMoreIfNeeded();
        probeNewCredentials();
    }

    /** Closes idle connections past MaxIdletime or MaxLifetime; called periodically by the registry. */
    public void evictIdle() {
        long now = System.nanoTime();
        PoolSettings current = settings.get();
        long maxIdleNanos = current.maxIdleTime().toNanos();
        for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
            BackendConnection connection = it.next();
            if (retirement.isStale(connection, now) && retirement.mayRetire(now, creating)
                    && (open > 1 || now - connection.idleSinceNanos() >= StaleRetirement.QUIET_POOL_NANOS)) {
                it.remove();
                retireStale(connection, now);
            } else if (maxIdleNanos > 0 && now - connection.idleSinceNanos() >= maxIdleNanos) {
                it.remove();
                stats.closedForIdleTime();
                close(connection);
            }
        }
        while (idle.size() > current.maxIdle()) {
            stats.closedForMaxIdle();
            close(idle.removeLast());
        }
        probeNewCredentials();
    }

    /**
     * A due {@link CredentialProbe} gets a login: at once if the pool has room, else in the slot of a connection
     * closed for it (an idle one now, or the next one released), so MaxOpen is never exceeded.
     */
    private void probeNewCredentials() {
        long now = System.nanoTime();
        if (!probe.due(now) || creating > 0 || backoff.failing() || retired || open == 0) {
            return; // a pool nobody uses logs in with the latest first at its next login anyway
        }
        if (credentials.latest() == null || credentials.latest().equals(credentials.current())) {
            probe.settled();
            return;
        }
        if (open < settings.get().maxOpen()) {
            startLogin(settings.get());
        } else if (!idle.isEmpty()) {
            close(idle.removeLast()); // the least recently used; onClosed comes back here with room
        }
    }

    private boolean probeWaitsForRoom(long now) {
        return probe.due(now) && creating == 0 && !backoff.failing() && open >= settings.get().maxOpen()
                && credentials.latest() != null && !credentials.latest().equals(credentials.current());
    }

    /** Closes every connection that is idle now (shutdown, or a retired destination). */
    public void closeIdle() {
        waiters.drainLingering(this::close);
        while (!idle.isEmpty()) {
            close(idle.poll());
        }
    }

    public int openCount() {
        return open;
    }

    /**
     * Open connections by the fingerprint of the credentials each logged in with, so the metrics can show when a
     * rotation is complete (no connection of the old credentials left). Fingerprints only: never the secrets.
     */
    public Map<String, Integer> openByFingerprint() {
        assert loop.inEventLoop();
        Map<String, Integer> counts = new TreeMap<>();
        for (BackendConnection connection : members) {
            counts.merge(connection.credentials().fingerprint(), 1, Integer::sum);
        }
        return counts;
    }

    public int idleCount() {
        return idle.size();
    }

    /** Connections logging in now (counted in {@link #openCount()}). */
    int openingCount() {
        return creating;
    }

    public int waitingCount() {
        return waiters.size();
    }

    private void close(BackendConnection connection) {
        connection.close(settings.get().connCloseTimeout());
    }

    // ---- admin console: PAUSE, RESUME, RECONNECT, KILL and a read-only snapshot ---------------------------------

    /**
     * PAUSE: new leases wait from now on; the future completes once every lease in flight has been returned (the
     * idle connections are then closed, so a failover finds no session open on the old server).
     */
    public Future<Void> pause() {
        assert loop.inEventLoop();
        return console.pause();
    }

    /** RESUME: the held leases are served in the order they were asked for. */
    public void resume() {
        assert loop.inEventLoop();
        console.resume();
    }

    public boolean paused() {
        return console.paused();
    }

    /** RECONNECT: idle connections close now, leased ones when their lease ends; new ones log in afresh. */
    public void reconnect() {
        assert loop.inEventLoop();
        console.reconnect();
    }

    /** KILL: holds new leases (until RESUME) and closes every connection now, in use or not. */
    public void kill() {
        assert loop.inEventLoop();
        console.kill();
    }

    /** Connections RECONNECT marked that are still open (WAIT_CLOSE waits for none). */
    public int closeNeededCount() {
        return console.closeNeededCount();
    }

    /** What the console shows of this pool; fingerprints only. */
    public PoolSnapshot snapshot() {
        assert loop.inEventLoop();
        long now = System.nanoTime();
        BackendCredentials live = credentials.current();
        List<String> retiring = new ArrayList<>();
        for (BackendCredentials c : credentials.candidates()) {
            if (!c.equals(live)) {
                retiring.add(c.user() + "/" + c.fingerprint());
            }
        }
        PgException lastError = backoff.lastError();
        return new PoolSnapshot(destination, settings.get().maxOpen(), open, idle.size(), creating, stats.inUse(),
                waiters.size(), console.heldCount(), waiters.headWaitedNanos(now), console.paused(),
                console.closeNeededCount(), live == null ? "" : live.user() + "/" + live.fingerprint(), retiring,
                backoff.failing(), lastError == null ? null : lastError.getMessage(),
                Math.max(0, backoff.waitNanos(now) / 1_000_000), serverLogins.get(), stats.leasesTotal(),
                stats.waitSeconds(), members.stream().map(ServerInfo::of).toList());
    }

    private BackendConnection pollIdle(long now, TenantKey tenant) {
        if (tenant != null) {
            // At most MaxIdle entries, most recently used first: the same tenant's connection saves a reset.
            for (Iterator<BackendConnection> it = idle.iterator(); it.hasNext(); ) {
                BackendConnection candidate = it.next();
                if (tenant.equals(candidate.lastTenant()) && candidate.isUsable()
                        && !retirement.isStale(candidate, now)) {
                    it.remove();
                    return candidate;
                }
            }
        }
        BackendConnection connection;
        while ((connection = idle.poll()) != null) {
            if (!connection.isUsable()) {
                continue;
            }
            if (retirement.isStale(connection, now) && retirement.mayRetire(now, creating) && open > 1) {
                retireStale(connection, now);
                continue;
            }
            return connection;
        }
        return null;
    }

    private void retireStale(BackendConnection connection, long now) {
        retirement.retiring(connection, now, events);
        close(connection);
    }

    private boolean handToWaiter(BackendConnection connection, long now) {
        return waiters.handOver(connection, now);
    }

    /**
     * Opens connections while sessions wait and MaxOpen allows. While logins fail, at most one is in flight and they
     * are spaced by the backoff; sessions that no open connection can serve get the login's error at once.
     */
    private void openMoreIfNeeded() {
        PoolSettings current = settings.get();
        while (creating < waiters.size() && open < current.maxOpen()) {
            if (backoff.failing()) {
                if (creating > 0) {
                    return;
                }
                long wait = backoff.waitNanos(System.nanoTime());
                if (wait > 0) {
                    if (open == 0) {
                        failWaiters(backoff.lastError());
                    } else {
                        scheduleRetry(wait);
                    }
                    return;
                }
            }
            startLogin(current);
        }
    }

    private void startLogin(PoolSettings current) {
        open++;
        creating++;
        BackendCredentials latest = credentials.latest();
        boolean probing = probe.due(System.nanoTime()) && latest != null && !latest.equals(credentials.current());
        if (probing) {
            probe.started();
        }
        new BackendLoginAttempt(destination, loop, credentials, credentialSource, loginWith -> {
            serverLogins.incrementAndGet();
            return connector.connect(loop, destination, loginWith, this, current.connCreateTimeout(),
                    current.maxLifetime());
        }).latestFirst(probing).run().addListener(f -> {
            creating--;
            if (probing) {
                boolean latestWorked = f.isSuccess() && latest.equals(((BackendConnection) f.getNow()).credentials());
                probe.finished(latestWorked, System.nanoTime());
                if (latestWorked) {
                    log.info("pool {}: logs in with the new credentials {} now; connections of older ones retire"
                            + " when idle", destination, latest);
                }
            }
            if (f.isSuccess()) {
                BackendConnection connection = (BackendConnection) f.getNow();
                if (backoff.failing()) {
                    log.info("pool {}: logins work again (as {})", destination, connection.credentials());
                }
                members.add(connection);
                backoff.succeeded();
                retirement.proven();
                stats.opened();
                poolEvents.backendLogin(true);
                log.debug("opened backend pid {} for {}", connection.processId(), destination);
                if (!handToWaiter(connection, System.nanoTime())) {
                    connection.markIdle(System.nanoTime());
                    idle.push(connection);
                }
            } else {
                open--;
                poolEvents.backendLogin(false);
                PgException error = asClientError(f.cause());
                // 08004: the server answered and refused (credentials, auth method); anything else: not reached.
                backoff.failed(System.nanoTime(), error, "08004".equals(error.sqlState()));
                log.warn("pool {}: login failed ({} open connections keep serving; next attempt in {} ms): {}",
                        destination, open, Math.max(0, backoff.waitNanos(System.nanoTime()) / 1_000_000),
                        error.getMessage());
                if (open == 0) {
                    failWaiters(error);
                } else {
                    // In use: keep trying (with backoff) even if nobody waits, so the pool leaves the failing
                    // state - and resumes retiring old connections - once a working password appears.
                    scheduleRetry(backoff.waitNanos(System.nanoTime()));
                }
            }
            openMoreIfNeeded();
        });
    }

    private void scheduleRetry(long waitNanos) {
        if (retryTimer == null || retryTimer.isDone()) {
            retryTimer = loop.schedule(this::probeLogin, Math.max(0, waitNanos), TimeUnit.NANOSECONDS);
        }
    }

    /**
     * While logins fail: one attempt when the backoff allows, even with nobody waiting, provided the pool is in use
     * (has open connections) and has room. Otherwise the sessions waiting, if any, drive the attempts.
     */
    private void probeLogin() {
        if (backoff.failing() && creating == 0 && open > 0 && open < settings.get().maxOpen()
                && waiters.isEmpty()) {
            long wait = backoff.waitNanos(System.nanoTime());
            if (wait > 0) {
                scheduleRetry(wait);
            } else {
                startLogin(settings.get());
            }
            return;
        }
        openMoreIfNeeded();
    }

    private PgException asClientError(Throwable cause) {
        return cause instanceof PgException pg ? pg
                : new PgException("08006", "cannot open a connection to backend " + destination + ": " + cause);
    }

    /** No open connection can serve the sessions waiting now: they get the login's error rather than waiting. */
    private void failWaiters(PgException error) {
        waiters.failAll(error);
    }

    /** QueryWaitTimeoutSecs ran out for a waiter ({@link WaitQueue}): the error says why and what to change. */
    private void giveUp(Promise<BackendConnection> promise) {
        PoolSettings current = settings.get();
        events.timeout(ProxyEvents.Timeout.QUERY_WAIT);
        if (backoff.failing()) {
            promise.tryFailure(new PgException("08004", "no backend connection to " + destination + " became free"
                    + " within " + current.queryWaitTimeout().toSeconds() + " s (PoolSettings.QueryWaitTimeoutSecs),"
                    + " and new logins to it fail: " + backoff.lastError().getMessage(), true, null));
            return;
        }
        promise.tryFailure(new PgException("53300", "no backend connection to " + destination + " became free within "
                + current.queryWaitTimeout().toSeconds() + " s (PoolSettings.QueryWaitTimeoutSecs); all "
                + current.maxOpen() + " connections (PoolSettings.MaxOpen) are busy - shorten transactions or raise"
                + " MaxOpen"));
    }
}
