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
 *   and the settings that differ from what the reset leaves, all in one Query. The client's messages wait for its
 *   ReadyForQuery, so that if the reset fails they have not run on a session in an unknown state: the connection is
 *   closed and the client gets another one ({@link BackendListener#onLeaseRetry}), never seeing the error.</li>
 * </ul>
 *
 * <p>Why the settings go into the reset's Query: a second Query would cost the server a second statement cycle and
 * ReadyForQuery on every tenant switch, for nothing - the client waits for the whole setup either way. A SET that fails
 * there fails the reset like any other statement of it (the connection is closed, the client leases another); the
 * tracked settings were accepted by the server when the client logged in, so that is not expected. And why only the
 * settings that differ: {@code RESET ALL} returns every setting to the value this session logged in with, which the
 * proxy knows (reported at login, or the server default for the unreported ones), so sending every desired setting
 * again would repeat what the reset already made true.
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
        String searchPath = null;
        if (resetNeeded) {
            session.resetToLoginValues(); // what RESET ALL leaves: the settings this session logged in with
            String settings = session.applySettings(desired, false);
            return new LeasePlan(SessionReset.forTenant(searchPathSql, settings), null, null);
        }
        if (!sameTenant || tenantStateUncertain) {
            searchPath = searchPathSql;
        }
        // An uncertain state may hold values nobody reported (extra_float_digits): then every desired one is sent.
        String settings = session.applySettings(desired, tenantStateUncertain);
        return new LeasePlan(null, searchPath, settings.isEmpty() ? null : settings);
    }
}
