package com.perseusproxy.core.session;

import com.perseusproxy.core.auth.LoginRequest;
import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.BackendConnection;
import com.perseusproxy.core.backend.SessionSettings;
import com.perseusproxy.core.backend.TenantKey;
import com.perseusproxy.core.metrics.ProxyEvents;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.ServerMessages;
import com.perseusproxy.core.protocol.StartupPacket;
import io.netty.channel.Channel;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The login phase of one {@link ClientSession}: from its StartupMessage (once the admin console has declined it)
 * through the password or SCRAM exchange, the authentication result and the login probe, to AuthenticationOk
 * ({@link #completeLogin}). The session's states STARTUP, PASSWORD, AUTHENTICATING and PROBING are this class's.
 *
 * <p>It owns what the login decides: the tenant's startup parameters, its route, {@link TenantKey} and
 * search_path statement, and the bookkeeping only the login needs (the SCRAM steps, the throttle's refusal, the
 * probe's failure, the ClientLimits admission). It is kept apart from {@link ClientSession} so that the session
 * reads as the Netty handler and its state machine; the two share the session's single {@code State} and its error
 * path ({@link ClientSession#fail}), and the probe lease is held by the session's {@link TransactionPooling}.
 *
 * <p>Everything here runs on the client channel's event loop, like the session: the off-loop lookups
 * (authenticator) hop back with {@code channel.eventLoop().execute}.
 */
final class ClientLogin {

    private final ClientSession session;
    private final SessionServices services;
    private final Channel channel;
    private TenantStartup startup;
    private TenantRoute route;
    /** The pool the login was routed to; the session's own pool may change later (account switch). */
    private BackendPool pool;
    private String searchPathSql;
    /** Which tenant this session is: what a backend compares with the tenant it served last. */
    private TenantKey tenant;
    private PgException probeFailure;
    /** When the login's row lookup started: a route read earlier than a refresh's must not override it. */
    private long authStartedNanos;
    /** The login being asked for: how (cleartext or SCRAM) and the row read to decide. */
    private LoginRequest login;
    /** The SCRAM exchange, when the row holds a verifier. */
    private SaslSteps sasl;
    private boolean saslFinal;
    /** Counted in ClientLimits' per-tenant connections. */
    private boolean admitted;
    /** A failed login already logged by ClientLimits' summary, so fail() does not log it again. */
    private PgException throttleRefusal;
    /** ClientSettings.LoginTimeoutSecs, from the connection to AuthenticationOk (the console has its own). */
    private ScheduledFuture<?> timeout;

    ClientLogin(ClientSession session, SessionServices services, Channel channel) {
        this.session = session;
        this.services = services;
        this.channel = channel;
    }

    TenantStartup startup() {
        return startup;
    }

    TenantRoute route() {
        return route;
    }

    TenantKey tenant() {
        return tenant;
    }

    String searchPathSql() {
        return searchPathSql;
    }

    /** The refusal ClientLimits has logged already, if any. */
    PgException throttleRefusal() {
        return throttleRefusal;
    }

    /** The connection is up: the login must complete within LoginTimeoutSecs, or the client gets 08P01. */
    void startTimeout() {
        timeout = channel.eventLoop().schedule(() -> {
            services.events().timeout(ProxyEvents.Timeout.LOGIN);
            session.fail(new PgException("08P01", "login did not complete within "
                    + services.loginTimeout().toSeconds() + " s (ClientSettings.LoginTimeoutSecs)"));
        }, services.loginTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The login completed, or the admin console took the connection over. */
    void cancelTimeout() {
        if (timeout != null) {
            timeout.cancel(false);
        }
    }

    /** The connection is gone: no login timeout, and it no longer counts in ClientLimits' per-tenant connections. */
    void leave() {
        cancelTimeout();
        if (admitted) {
            admitted = false;
            services.limits().leave(tenantName());
        }
    }

    /** A StartupMessage the admin console did not claim. */
    void onStartup(StartupPacket.Startup start) {
        if (start.majorVersion() != 3) {
            session.fail(new PgException("0A000", "unsupported frontend protocol " + start.majorVersion() + "."
                    + start.minorVersion() + ": the proxy supports protocol 3.0"));
            return;
        }
        List<String> unsupportedOptions = new ArrayList<>();
        start.parameters().keySet().stream().filter(n -> n.startsWith("_pq_.")).forEach(unsupportedOptions::add);
        if (start.minorVersion() > 0 || !unsupportedOptions.isEmpty()) {
            channel.write(ServerMessages.negotiateProtocolVersion(channel.alloc(), 0, unsupportedOptions));
        }
        startup = TenantStartup.parse(start.parameters(), services.tracked());
        PgException full = services.limits().admit(services.clients().size(), tenantName());
        if (full != null) {
            session.fail(full);
            return;
        }
        admitted = true;
        startup.logDropped(channel.remoteAddress());
        session.enter(ClientSession.State.PASSWORD);
        // The row decides how to ask (SCRAM when it holds a verifier); it is read once, for the whole login.
        authStartedNanos = System.nanoTime();
        channel.config().setAutoRead(false);
        LoginRequest asked = new LoginRequest(startup.database(), startup.schema(), startup.user(), null);
        services.authenticator().prepare(asked).whenComplete((method, error) -> channel.eventLoop().execute(() -> {
            if (session.state() != ClientSession.State.PASSWORD) {
                return; // the client left meanwhile
            }
            if (error != null) {
                session.fail(session.asClientError(error));
                return;
            }
            login = asked.withMethod(method);
            if (method.scram()) {
                sasl = SaslSteps.start(channel, method.verifiers(), startup.user());
            } else {
                channel.writeAndFlush(ServerMessages.authenticationCleartextPassword());
            }
            channel.config().setAutoRead(true);
        }));
    }

    void onPassword(PgMessage message) {
        if (message.tag() != FrontendTag.PASSWORD) {
            throw new PgException("08P01", "expected a password message, got message type '" + message.tag() + "'");
        }
        if (login == null) {
            throw new PgException("08P01", "a password message came before the server asked for one");
        }
        LoginRequest presented;
        if (sasl != null && !saslFinal) {
            saslFinal = true;
            sasl.step(channel, message); // SASLContinue sent; the client-final-message comes next
            return;
        }
        if (waitForCheckSlot(message) || throttled()) {
            return;
        }
        if (sasl != null) {
            try {
                presented = login.provedBy(sasl.step(channel, message));
            } catch (PgException e) {
                onAuthenticated(null, e); // a wrong proof: counted and answered like a wrong password
                return;
            }
        } else {
            presented = login.withPassword(MessageReader.password(message));
        }
        session.enter(ClientSession.State.AUTHENTICATING);
        channel.config().setAutoRead(false);
        services.authenticator().authenticate(presented)
                .whenComplete((result, error) -> channel.eventLoop().execute(() -> onAuthenticated(result, error)));
    }

    /** How long an attempt whose address has every token reserved by checks in progress waits before asking again. */
    private static final long CHECK_SLOT_RETRY_MILLIS = 10;

    /** A throttle decision reserved for {@link #throttled}, taken by {@link #waitForCheckSlot}. */
    private PgException decision;

    /**
     * Every token of the login throttle left for this address or tenant is reserved by checks in progress: ask again
     * in a moment, with the same message (the password step is replayed), instead of refusing a good client's pool
     * that opens many connections at once.
     */
    private boolean waitForCheckSlot(PgMessage message) {
        decision = services.limits().beginCheck(ClientLimits.source(channel.remoteAddress()), tenantName());
        if (decision != ClientLimits.WAIT) {
            return false;
        }
        decision = null;
        message.retain(); // the caller releases its reference when this returns
        channel.config().setAutoRead(false);
        channel.eventLoop().schedule(() -> {
            try {
                if (session.state() == ClientSession.State.PASSWORD) {
                    channel.config().setAutoRead(true);
                    onPassword(message);
                }
            } catch (PgException e) {
                session.fail(e);
            } finally {
                message.release();
            }
        }, CHECK_SLOT_RETRY_MILLIS, TimeUnit.MILLISECONDS);
        return true;
    }

    /** The login throttle refused this attempt: answered after a delay, without any password check. */
    private boolean throttled() {
        PgException refused = decision;
        decision = null;
        if (refused == null) {
            return false;
        }
        session.enter(ClientSession.State.AUTHENTICATING);
        channel.config().setAutoRead(false);
        services.limits().loginFailed(channel.eventLoop(), ClientLimits.source(channel.remoteAddress()),
                tenantName(), refused, true);
        throttleRefusal = refused;
        channel.eventLoop().schedule(() -> session.fail(refused), services.limits().refusalDelayMillis(),
                TimeUnit.MILLISECONDS);
        return true;
    }

    private String tenantName() {
        return startup.database() + "/" + startup.schema();
    }

    private void onAuthenticated(TenantRoute result, Throwable error) {
        ClientSession.State state = session.state();
        if (state != ClientSession.State.AUTHENTICATING && !(state == ClientSession.State.PASSWORD && error != null)) {
            return; // the client left meanwhile
        }
        String source = ClientLimits.source(channel.remoteAddress());
        if (error != null) {
            PgException failure = session.asClientError(error);
            if (!"28P01".equals(failure.sqlState())) {
                services.limits().checkSucceeded(source, tenantName()); // not a guess: the token comes back
                session.fail(failure);
                return;
            }
            session.enter(ClientSession.State.AUTHENTICATING);
            services.limits().loginFailed(channel.eventLoop(), source, tenantName(), failure, false);
            throttleRefusal = failure; // logged already, in the summary
            long delay = services.limits().checkFailed(source, tenantName());
            if (delay > 0) {
                channel.config().setAutoRead(false);
                channel.eventLoop().schedule(() -> session.fail(failure), delay, TimeUnit.MILLISECONDS);
            } else {
                session.fail(failure);
            }
            return;
        }
        services.limits().checkSucceeded(source, tenantName());
        if (services.clients().draining()) {
            session.fail(ClientRegistry.shuttingDown());
            return;
        }
        route = result;
        searchPathSql = SessionSettings.searchPathStatement(route.schema());
        tenant = new TenantKey(route.database(), route.schema());
        pool = services.pools().routes().routeLogin(route, authStartedNanos);
        session.transactions().routed(pool, searchPathSql);
        Map<String, String> spelled = pool.serverProfile().spell(startup.settings());
        if (spelled != null) {
            // The server's parameters and its spelling of these settings are known: no probe lease needed.
            completeLogin(pool.serverProfile().loginParameters(), spelled);
            return;
        }
        session.enter(ClientSession.State.PROBING);
        acquireProbe();
    }

    /** Leases the probe: one backend set up with the client's settings (also after a failed tenant-switch reset). */
    void acquireProbe() {
        TransactionPooling transactions = session.transactions();
        transactions.acquire(leased -> {
            transactions.hold(leased);
            leased.lease(transactions, tenant, searchPathSql, startup.settings(), pool.settings().schemaExecTimeout());
            if (transactions.backend().settingUp()) {
                transactions.backend().flush(); // it settles in onBackendIdle
            } else {
                finishProbe(); // the session already serves this tenant with these settings: nothing to learn
            }
        });
    }

    /** A setting the client asked for is invalid: refuse the login once the probe has settled. */
    void probeFailed(PgException error) {
        probeFailure = new PgException(error.sqlState(), "cannot apply the connection's settings: "
                + error.getMessage());
    }

    /** The probe lease has settled: the server's parameters and its spelling of the client's settings are known. */
    void finishProbe() {
        BackendConnection probe = session.transactions().takeBackend();
        Map<String, String> spelled = DesiredSettings.spelledByProbe(startup.settings(), probe.currentSettings(),
                probeFailure == null ? pool.serverProfile() : null);
        pool.serverProfile().recordLoginParameters(probe.loginParameters());
        pool.release(probe);
        if (probeFailure != null) {
            session.fail(probeFailure);
            return;
        }
        completeLogin(probe.loginParameters(), spelled);
    }

    /**
     * Says AuthenticationOk and what PostgreSQL would report at startup: the server's parameters, with the
     * client's own settings in the server's spelling; the client's session is then those settings over the
     * server's defaults.
     */
    private void completeLogin(Map<String, String> serverParameters, Map<String, String> clientSettings) {
        Map<String, String> reported = session.desiredSettings().login(serverParameters, clientSettings,
                services.tracked());
        cancelTimeout();
        if (services.clients().draining()) {
            session.fail(ClientRegistry.shuttingDown());
            return;
        }
        session.sessionLog().loginSucceeded(startup, route.clientSecret(), channel.remoteAddress());
        services.events().login(ProxyEvents.LoginResult.OK);
        int[] cancelKey = session.loggedIn(route);
        channel.write(ServerMessages.authenticationOk());
        reported.forEach((name, value) -> channel.write(ServerMessages.parameterStatus(channel.alloc(), name, value)));
        channel.write(ServerMessages.backendKeyData(channel.alloc(), cancelKey[0], cancelKey[1]));
        channel.writeAndFlush(ServerMessages.readyForQuery(channel.alloc(), 'I'));
        session.transactions().startPooling();
    }
}
