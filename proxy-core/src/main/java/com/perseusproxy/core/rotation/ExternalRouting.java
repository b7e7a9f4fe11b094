package com.perseusproxy.core.rotation;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import java.util.function.UnaryOperator;

/**
 * Points a tenant's route at the externally issued account when its backend takes credentials from outside
 * {@code perseus_auth}. The issued user becomes part of the destination, so a new user (Vault issues one per lease)
 * is an account switch: sessions move at their next transaction and the old account's pool drains.
 */
public final class ExternalRouting implements UnaryOperator<TenantRoute> {

    private final ExternalCredentials external;

    public ExternalRouting(ExternalCredentials external) {
        this.external = external;
    }

    /** Blocking when the backend is covered (may run the command). */
    @Override
    public TenantRoute apply(TenantRoute route) {
        Destination d = route.destination();
        if (!external.covers(d.host(), d.port(), d.database())) {
            return route;
        }
        BackendCredentials issued = external.current(d.host(), d.port(), d.database());
        return new TenantRoute(route.database(), route.schema(), route.user(),
                new Destination(d.host(), d.port(), d.database(), issued.user()), issued, route.clientSecret());
    }
}
