package com.perseusproxy.core.auth;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;

/**
 * The outcome of a successful login: which schema the tenant's transactions use, and which backend pool serves them
 * with which (decrypted) credentials.
 */
public record TenantRoute(String database, String schema, String user, Destination destination,
                          BackendCredentials credentials) {
}
