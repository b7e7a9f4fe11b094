package com.perseusproxy.core.backend;

/**
 * Which tenant a backend session last served: a {@code perseus_auth} row is unique by (source database, source
 * schema), so that pair names the tenant. A backend that goes back to the same tenant needs no reset.
 */
public record TenantKey(String database, String schema) {

    // Compared on every lease and hand-over. Written out because a record's generated equals (a method-handle
    // bootstrap) showed in the data loop's profile; the strings usually come from one route, so identity often
    // decides at once.
    @Override
    public boolean equals(Object other) {
        return this == other || other instanceof TenantKey key && database.equals(key.database)
                && schema.equals(key.schema);
    }

    @Override
    public int hashCode() {
        return 31 * database.hashCode() + schema.hashCode();
    }
}
