package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;

/**
 * {@code MetricsSettings}: what {@code /metrics} shows beyond the per-pool and proxy-wide series.
 *
 * @param perTenant {@code PerTenant} (default false): also one series per tenant (source database and schema) for
 *                  transactions, queries and bytes. Off by default because a proxy serving thousands of tenants
 *                  would make thousands of series per family, which costs Prometheus far more than the proxy.
 */
public record MetricsSettings(boolean perTenant) {

    public static MetricsSettings defaults() {
        return new MetricsSettings(false);
    }

    static MetricsSettings read(JsonSection s) throws ConfigException {
        return new MetricsSettings(s.bool("PerTenant", false));
    }
}
