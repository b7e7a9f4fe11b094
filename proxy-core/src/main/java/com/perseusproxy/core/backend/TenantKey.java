package com.perseusproxy.core.backend;

/**
 * Which tenant a backend session last served: a {@code perseus_auth} row is unique by (source database, source
 * schema), so that pair names the tenant. A backend that goes back to the same tenant needs no reset.
 */
public record TenantKey(String database, String schema) {
}
