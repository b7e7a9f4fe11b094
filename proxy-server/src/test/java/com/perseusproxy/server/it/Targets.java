package com.perseusproxy.server.it;

import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;

/**
 * THE switch between testing PostgreSQL and testing the proxy. Every test gets its client endpoint from
 * {@link #forTenant}; nothing else needs to change to point the whole suite at the proxy.
 */
public final class Targets {

    private Targets() {
    }

    /**
     * Where a client of {@code tenant} connects.
     *
     * <p>By default the shared proxy under test ({@link TestProxy}). With {@code -Dperseus.it.direct=true}:
     * PostgreSQL itself, logged in as the backend role with the tenant's schema as search_path - exactly what the
     * proxy does on the tenant's behalf, so every test can prove itself against the real thing.
     *
     */
    public static Target forTenant(SampleTenant tenant) {
        if (Boolean.getBoolean("perseus.it.direct")) {
            return direct(tenant); // -Dperseus.it.direct=true checks the tests themselves against PostgreSQL
        }
        return viaProxy(tenant, "127.0.0.1", TestProxy.port());
    }

    /** True when {@link #forTenant} points at the proxy: tests of proxy-only behaviour check this. */
    public static boolean viaProxy() {
        return forTenant(Fixtures.TENANT_A).port() != Fixtures.postgres().port();
    }

    /** Straight to PostgreSQL as {@code app_owner}, with the tenant's schema. */
    public static Target direct(SampleTenant tenant) {
        TestPostgres pg = Fixtures.postgres();
        return new Target(pg.host(), pg.port(), tenant.sourceDb(), TestPostgres.APP_OWNER.name(),
                TestPostgres.APP_OWNER.password(), tenant.schema());
    }

    /** Through the proxy, with the tenant's own credentials from perseus_auth. */
    public static Target viaProxy(SampleTenant tenant, String proxyHost, int proxyPort) {
        Fixtures.postgres();
        return new Target(proxyHost, proxyPort, tenant.sourceDb(), tenant.user(), tenant.password(),
                tenant.schema());
    }
}
