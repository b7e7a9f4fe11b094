package com.perseusproxy.core.auth;

import com.perseusproxy.core.tenant.TenantRecord;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, from the row read for a login, how the client is asked for its password - before it has sent anything.
 * <ul>
 *   <li>The row matches (database, schema, user) and holds SCRAM verifiers: SCRAM-SHA-256 with the first verifier's
 *       salt; the verifiers sharing it (and its iteration count) are checked together, so a rotation whose new
 *       verifier reuses the old salt ({@code genhash -scram -salt_of}, {@code tenant -scram -add}) lets both
 *       passwords in. Verifiers with another salt cannot be offered in the same exchange and are skipped, with a
 *       warning naming the row (once per row and content).</li>
 *   <li>The row matches and holds only easy-scrypt hashes: cleartext, as Perseus asks.</li>
 *   <li>No row matches (unknown tenant, or another user's row): {@link UnknownUserAuth} - cleartext and a dummy
 *       scrypt run, or a mock SCRAM exchange ({@link MockScram}) - so unknown names look like the real rows.</li>
 * </ul>
 * Thread-safe; runs on the lookup threads.
 */
final class LoginMethods {

    private static final Logger log = LoggerFactory.getLogger(LoginMethods.class);
    /** Bounds the memory of which rows were warned about; beyond it a row may be warned about again. */
    private static final int MAX_WARNED = 10_000;

    private final UnknownUserAuth unknownUsers;
    private final MockScram mock = new MockScram();
    private final Set<String> warned = ConcurrentHashMap.newKeySet();

    LoginMethods(UnknownUserAuth unknownUsers) {
        this.unknownUsers = Objects.requireNonNull(unknownUsers, "unknownUsers");
    }

    LoginMethod choose(LoginRequest request, TenantRecord row) {
        if (row == null || !Objects.equals(request.user(), row.sourceUser())) {
            List<ScramVerifier> challenge = unknownUsers == UnknownUserAuth.SCRAM_SHA_256
                    ? List.of(mock.verifierFor(request.database(), request.schema(), request.user())) : List.of();
            return new LoginMethod(challenge, row, true);
        }
        Map<ScramVerifier, Integer> offered = ClientPasswordHashes.verifiers(row.sourcePassHashed());
        warnAboutSkippedVerifiers(row, offered.size());
        return new LoginMethod(List.copyOf(offered.keySet()), row, true);
    }

    private void warnAboutSkippedVerifiers(TenantRecord row, int offered) {
        String hashes = row.sourcePassHashed();
        if (hashes == null || offered == 0) {
            return;
        }
        long verifiers = java.util.Arrays.stream(hashes.split(","))
                .filter(h -> ScramVerifier.looksLikeVerifier(h.strip())).count();
        if (verifiers <= offered) {
            return;
        }
        if (warned.size() > MAX_WARNED) {
            warned.clear();
        }
        if (warned.add(row.id() + ":" + Integer.toHexString(hashes.hashCode()))) {
            log.warn("perseus_auth row id {}: {} of its {} SCRAM verifiers have another salt or iteration count"
                    + " than the first (or do not parse) and are not accepted: SCRAM sends the client one salt;"
                    + " make the new verifier with 'perseus-tools genhash -scram -salt_of <first verifier>' or"
                    + " 'tenant -scram -add'", row.id(), verifiers - offered, verifiers);
        }
    }
}
