package com.perseusproxy.core.tenant;

import java.util.Optional;

/**
 * Finds the {@code perseus_auth} row of a tenant. Implementations block (JDBC), so callers run them on an executor,
 * never on a Netty event loop.
 */
public interface TenantDirectory {

    /**
     * @return the row for (database, schema), or empty when there is none
     * @throws TenantLookupException when the auth database cannot answer (down, slow, misconfigured)
     */
    Optional<TenantRecord> find(String database, String schema) throws TenantLookupException;
}
