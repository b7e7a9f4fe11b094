package com.perseusproxy.core.auth;

import com.perseusproxy.core.tenant.TenantRecord;
import java.util.List;

/**
 * How a client is asked for its password, decided from its row before the question: with SCRAM-SHA-256 when the
 * row's {@code source_pass_hashed} holds a verifier (the password never crosses the wire), else cleartext as Perseus
 * does (easy-scrypt hashes need the password itself). A login that matches no row is asked as
 * {@link UnknownUserAuth} says: cleartext (then one dummy scrypt run) or a mock SCRAM exchange. {@link LoginMethods}
 * decides.
 *
 * @param verifiers the verifiers one exchange can check: those sharing the first verifier's salt and iterations,
 *                  or the mock one of an unknown login; empty = cleartext
 * @param row       the row read to decide (reused by the login, so it costs one lookup); null if unknown
 */
public record LoginMethod(List<ScramVerifier> verifiers, TenantRecord row, boolean looked) {

    /** Cleartext, with nothing looked up yet (authenticate() reads the row). */
    public static final LoginMethod CLEARTEXT = new LoginMethod(List.of(), null, false);

    public boolean scram() {
        return !verifiers.isEmpty();
    }

    @Override
    public String toString() {
        return scram() ? "SCRAM-SHA-256 (" + verifiers.size() + " verifiers)" : "cleartext";
    }
}
