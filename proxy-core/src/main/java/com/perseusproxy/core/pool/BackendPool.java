package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.ConnectionOwner;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.backend.TenantKey;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.statements.KnownStatements;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend connections of one destination, shared by every tenant routed there.
 *
 * <p>Vocabulary: a client session <em>acquires</em> a connection for one transaction and <em>releases</em> it at the
 * transaction's end. Idle connections are kept most-recently-used first, so the surplus ages out through
 * MaxIdletime. Waiters ({@link WaitQueue}) are served first come, first served, and give up after
 * QueryWaitTimeoutSecs. A connection that dies is dropped and never handed out again. Every method runs on the pool's event loop.
 *
 * <p>Its parts: {@link LeasePolicy} (which connection a lease gets, and when), {@link IdleConnections} (the idle
 * list, eviction and retirement), {@link WaitQueue} (the sessions waiting), {@link PoolLogins} (opening connections, backoff, credential probes), {@link PoolConsole} (the admin
 * console's commands and snapshot). The pool hands connections out and takes them back.
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
    private final Supplier<PoolSettings> settings;
    private final PoolStats stats = new PoolStats();
    /** Every hand-out and return, by tenant. */
    private final TenantLeases leases = new TenantLeases(stats);
    /** Metrics beyond Perseus's: set once, on the loop, right after the pool is made (see PoolRegistry). */
    private ProxyEvents events = ProxyEvents.NONE;
    private ProxyEvents.Pool poolEvents = ProxyEvents.Pool.NONE;
    private final KnownStatements knownStatements = new KnownStatements();
    private final ServerProfile serverProfile = new ServerProfile();
    private final IdleConnections idle;
    private final WaitQueue waiters;
    /** The connections counted in {@code open}: those whose login succeeded and that have not closed yet. */
    private final Set<BackendConnection> members = new HashSet<>();
    private final CredentialSet credentials;
    private final LoginBackoff backoff = new LoginBackoff();
    private final PoolLogins logins;
    /** PAUSE, RESUME, RECONNECT and KILL from the admin console, and what it shows. */
    private final PoolConsole console;
    /** Whether a stale connection may be retired now. */
    private final StaleRetirement retirement;
    private boolean retired;
    /** Which connection a lease gets, and when (the hand-out half; this class takes back). */
    private final LeasePolicy policy;

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
        this.loop = loop;
        this.settings = settings;
        this.waiters = new WaitQueue(loop, settings, stats, leases, wait -> poolEvents.leased(wait));
        waiters.onTimeout(() -> events.timeout(ProxyEvents.Timeout.QUERY_WAIT),
                () -> backoff.failing() ? backoff.lastError() : null, destination);
        this.retirement = new StaleRetirement(destination, this.credentials, backoff, stats);
        this.idle = new IdleConnections(settings, stats, retirement);
        waiters.onUnclaimed(idle::keep);
        this.logins = new PoolLogins(destination, loop, connector, settings, this.credentials, credentialSource,
                backoff, retirement, stats, waiters, idle, this, this::opened, () -> retired);
        this.policy = new LeasePolicy(destination, loop, settings, leases, idle, waiters, logins, this::release);
        this.console = new PoolConsole(this, loop, waiters, stats, members,
                new PoolConsole.Views(this.credentials, backoff, logins, idle));
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
        retirement.reportTo(events);
        logins.reportTo(events, poolEvents);
        policy.reportTo(poolEvents);
    }

    /** What to run when a lease waits because the pool is at MaxOpen (called once, before the pool is used). */
    void onFull(Runnable hook) {
        policy.onFull(hook);
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
        logins.offerLatest(latest);
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
        return logins.serverLoginCount();
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
        policy.serve(promise, tenant);
        return promise;
    }

    /**
     * The settings were reloaded. A raised MaxOpen lets waiters in at once (new connections open now); a lowered one
     * closes idle connections above it now and leased ones as they are returned ({@link #release}), never one in use.
     */
    public void settingsChanged() {
        assert loop.inEventLoop();
        PoolSettings current = settings.get();
        // open counts down only when each close completes (onClosed), so count the surplus once.
        idle.closeLeastRecentlyUsed(logins.open() - current.maxOpen());
        logins.openMoreIfNeeded();
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
        leases.returned(connection);
        long now = System.nanoTime();
        if (!connection.isUsable()) {
            return; // onClosed does the accounting
        }
        if (retired || console.takeCloseOnRelease(connection)) {
            close(connection);
            logins.openMoreIfNeeded();
            return;
        }
        if (retirement.isStale(connection, now) && retirement.mayRetire(now, logins.creating())) {
            if (logins.open() > 1 || settings.get().maxOpen() == 1) {
                idle.retire(connection, now);
                logins.openMoreIfNeeded();
                return;
            }
            // The last connection: log in its replacement first, and retire it once that worked.
            logins.startLogin(settings.get());
        }
        if (logins.open() > settings.get().maxOpen()) {
            close(connection); // MaxOpen was lowered by a reload: shrink as connections come back
            return;
        }
        if (logins.probeWaitsForRoom(now)) {
            close(connection); // its slot goes to the login that tries the new credentials (onClosed starts it)
            return;
        }
        connection.markIdle(now);
        if (waiters.handOver(connection, now)) {
            return;
        }
        idle.keep(connection);
    }

    /** A connection that just logged in: counted as open, then to a waiter or the idle list. */
    private void opened(BackendConnection connection) {
        members.add(connection);
        if (!waiters.handOver(connection, System.nanoTime())) {
            idle.addFresh(connection);
        }
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
        logins.memberClosed();
        logins.openMoreIfNeeded();
        logins.probeNewCredentials();
    }

    /** Closes idle connections past MaxIdletime or MaxLifetime; called periodically by the registry. */
    public void evictIdle() {
        idle.evict(System.nanoTime(), logins.open(), logins.creating());
        logins.probeNewCredentials();
    }

    /** Closes every connection that is idle now (shutdown, or a retired destination). */
    public void closeIdle() {
        waiters.drainLingering(this::close);
        idle.closeAll();
    }

    public int openCount() {
        return logins.open();
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
        return logins.creating();
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
        return console.snapshot(destination, settings.get().maxOpen());
    }
}
