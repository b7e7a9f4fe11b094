package com.perseusproxy.core.auth;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import java.util.Objects;

/**
 * The outcome of a successful login: which schema the tenant's transactions use, and which backend pool serves them
 * with which (decrypted) credentials.
 *
 * <p>{@code clientSecret} is the 1-based position, in {@code source_pass_hashed}, of the client password hash that
 * matched (0 = not known, e.g. a route re-read by a refresh). It is for the login log line only, so it takes no part
 * in {@link #equals}: a refreshed route that differs only there is the same route.
 */
public record TenantRoute(String database, String schema, String user, Destination destination,
                          BackendCredentials credentials, int clientSecret) {

    public TenantRoute(String database, String schema, String user, Destination destination,
                       BackendCredentials credentials) {
        this(database, schema, user, destination, credentials, 0);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TenantRoute r && Objects.equals(database, r.database) && Objects.equals(schema, r.schema)
                && Objects.equals(user, r.user) && Objects.equals(destination, r.destination)
                && Objects.equals(credentials, r.credentials);
    }

    @Override
    public int hashCode() {
        return Objects.hash(database, schema, user, destination, credentials);
    }
}
