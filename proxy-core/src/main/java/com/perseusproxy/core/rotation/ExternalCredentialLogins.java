package com.perseusproxy.core.rotation;

import com.perseusproxy.core.auth.Authenticator;
import com.perseusproxy.core.auth.LoginRequest;
import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.protocol.PgException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client logins whose backend takes its credentials from a command: the login is checked as usual against
 * {@code perseus_auth}, then the route is pointed at the externally issued account (see {@link ExternalRouting}).
 */
public final class ExternalCredentialLogins implements Authenticator {

    private static final Logger log = LoggerFactory.getLogger(ExternalCredentialLogins.class);

    private final Authenticator delegate;
    private final ExternalRouting routing;
    private final Executor executor;

    /** @param executor where the command may run (never an event loop) */
    public ExternalCredentialLogins(Authenticator delegate, ExternalRouting routing, Executor executor) {
        this.delegate = delegate;
        this.routing = routing;
        this.executor = executor;
    }

    @Override
    public CompletableFuture<com.perseusproxy.core.auth.LoginMethod> prepare(LoginRequest request) {
        return delegate.prepare(request);
    }

    @Override
    public CompletableFuture<TenantRoute> authenticate(LoginRequest request) {
        return delegate.authenticate(request).thenApplyAsync(route -> {
            try {
                TenantRoute routed = routing.apply(route);
                if (routed != route) {
                    log.debug("tenant {}/{} uses externally issued credentials {} for {}", route.database(),
                            route.schema(), routed.credentials(), routed.destination());
                }
                return routed;
            } catch (IllegalStateException e) {
                log.warn("login of tenant {}/{} failed: {}", route.database(), route.schema(), e.getMessage());
                throw new PgException("08004", "the proxy could not obtain credentials for backend "
                        + route.destination().host() + ":" + route.destination().port() + "/"
                        + route.destination().database() + " (the proxy's log has the cause); retry shortly",
                        true, null);
            }
        }, executor);
    }
}
