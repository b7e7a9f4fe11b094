package com.perseusproxy.core.auth;

import com.perseusproxy.core.tenant.TenantRecord;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scrypt half of a cleartext login, apart from {@link ScryptAuthenticator}'s staging of lookups and pools: checks
 * the password against the row's easy-scrypt hashes and says why a login failed (for the log only; the client gets
 * the same 28P01 whatever the reason). It costs the same for every outcome: one scrypt run per usable hash of the row
 * (one, unless a client-side rotation is under way), and exactly one against a dummy hash of the same cost when the
 * tenant is unknown, the user is another's or the row's hashes are unusable. Blocking: hash threads only.
 *
 * @param failure      why the login failed, or null when a hash matched
 * @param hashPosition the 1-based position in {@code source_pass_hashed} of the hash that matched (for the log;
 *                     never the hash itself), or {@link ClientPasswordHashes#NO_MATCH}
 */
record ScryptCheck(LoginFailure failure, int hashPosition) {

    private static final Logger log = LoggerFactory.getLogger(ScryptCheck.class);

    static ScryptCheck refused(LoginFailure failure) {
        return new ScryptCheck(failure, ClientPasswordHashes.NO_MATCH);
    }

    static ScryptCheck check(LoginRequest request, TenantRecord tenant) {
        ClientPasswordHashes hashes = ClientPasswordHashes.parse(tenant == null ? null : tenant.sourcePassHashed());
        int matched = hashes.anyUsable() ? hashes.match(request.password()) : dummyCheck(request.password());
        if (tenant == null) {
            return refused(LoginFailure.UNKNOWN_TENANT);
        }
        if (!Objects.equals(request.user(), tenant.sourceUser())) {
            return refused(LoginFailure.WRONG_USER);
        }
        if (!hashes.anyUsable()) {
            return refused(LoginFailure.UNUSABLE_STORED_HASH);
        }
        if (hashes.unusableCount() > 0) {
            log.warn("perseus_auth row id {} has {} unusable entries in source_pass_hashed (ignored); regenerate them"
                    + " with 'perseus-tools genhash' or remove them", tenant.id(), hashes.unusableCount());
        }
        return matched == ClientPasswordHashes.NO_MATCH ? refused(LoginFailure.WRONG_PASSWORD)
                : new ScryptCheck(null, matched);
    }

    /** One scrypt run of the usual cost that matches nothing: what a login with no usable hash costs. */
    static int dummyCheck(String password) {
        EasyScrypt.verify(password, EasyScrypt.dummyHash());
        return ClientPasswordHashes.NO_MATCH;
    }
}
