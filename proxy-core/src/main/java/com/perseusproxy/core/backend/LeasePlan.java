package com.perseusproxy.core.backend;

import java.util.Map;

/**
 * What a lease sends on a backend session before the client's messages, and why (see also {@link SessionReset}):
 * <ul>
 *   <li><b>Same tenant as last time:</b> nothing is sent, unless the tenant's last transaction visibly changed
 *   its search_path or settings (then both are re-sent, pipelined), or a tracked setting differs. Whatever one client
 *   of a tenant leaves in the session for the next client of the same tenant is ordinary transaction pooling, as in
 *   PgBouncer.</li>
 *   <li><b>A fresh session:</b> the tenant's search_path and the settings that differ, pipelined ahead of the
 *   client's messages (no round trip).</li>
 *   <li><b>Another tenant</b> (or a session whose settings could not be applied): the full reset, the search_path
 *   and the settings. The client's messages wait for its ReadyForQuery, so that if the reset fails they have not
 *   run on a session in an unknown state: the connection is closed and the client gets another one
 *   ({@link BackendListener#onLeaseRetry}), never seeing the error.</li>
 * </ul>
 *
 * @param resetSql      the reset and search_path as one Query, or null; when set, the client's messages wait for it
 * @param searchPathSql the search_path alone, or null
 * @param settingsSql   SET/RESET of the tracked settings that differ, or null
 */
record LeasePlan(String resetSql, String searchPathSql, String settingsSql) {

    /**
     * Decides, and records on {@code session} what the plan will make true (its settings from then on).
     *
     * @param tenantStateUncertain the last tenant had a SET, RESET or DISCARD ALL tag
     */
    static LeasePlan decide(ServerSessionState session, TenantKey lastTenant, TenantKey tenant,
                            boolean tenantStateUncertain, String searchPathSql, Map<String, String> desired) {
        boolean sameTenant = tenant.equals(lastTenant);
        boolean resetNeeded = session.takeResetNeeded() || (lastTenant != null && !sameTenant);
        String reset = null;
        String searchPath = null;
        if (resetNeeded) {
            session.resetToLoginValues(); // what RESET ALL leaves: the settings this session logged in with
            reset = SessionReset.forTenant(searchPathSql);
        } else if (!sameTenant || tenantStateUncertain) {
            searchPath = searchPathSql;
        }
        String settings = session.applySettings(desired, resetNeeded || tenantStateUncertain);
        return new LeasePlan(reset, searchPath, settings.isEmpty() ? null : settings);
    }
}
