package com.perseusproxy.core.rotation;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.tenant.JdbcDestinationRows;
import com.perseusproxy.core.tenant.TenantRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Re-reads the credentials of a destination from {@code perseus_auth} when a pool found every one it knew refused:
 * the rows whose {@code dest_host}, {@code dest_db} and {@code dest_user} lead there, each {@code dest_pass_enc}
 * decrypted afresh. Rows that cannot be decrypted are skipped (and logged) so that one bad row does not hide a good
 * one.
 */
public final class DestinationCredentialReader implements CredentialSource {

    private static final Logger log = LoggerFactory.getLogger(DestinationCredentialReader.class);

    private final JdbcDestinationRows rows;
    private final TenantRowDecoder decoder;
    private final ExecutorService executor;
    private final ExternalCredentials external;
    private final Runnable onExternalAccountChange;

    /** @param executor blocking work (JDBC, KMS) runs here; owned by the caller */
    public DestinationCredentialReader(JdbcDestinationRows rows, SecretDecryptor decryptor, ExecutorService executor) {
        this(rows, decryptor, executor, ExternalCredentials.NONE, () -> { });
    }

    /**
     * @param external                 backends whose credentials come from a command: re-run instead of re-read
     * @param onExternalAccountChange  the command issued another user: routes must be re-read to move to it
     */
    public DestinationCredentialReader(JdbcDestinationRows rows, SecretDecryptor decryptor, ExecutorService executor,
                                       ExternalCredentials external, Runnable onExternalAccountChange) {
        this.external = external;
        this.onExternalAccountChange = onExternalAccountChange;
        this.rows = rows;
        this.decoder = new TenantRowDecoder(decryptor);
        this.executor = executor;
    }

    @Override
    public CompletableFuture<List<BackendCredentials>> reload(Destination destination) {
        return CompletableFuture.supplyAsync(() -> read(destination), executor);
    }

    private List<BackendCredentials> read(Destination destination) {
        if (external.covers(destination.host(), destination.port(), destination.database())) {
            List<BackendCredentials> candidates = external.renewCandidates(destination.host(), destination.port(),
                    destination.database());
            BackendCredentials issued = candidates.get(0);
            if (issued.user().equals(destination.user())) {
                // Another user among the rest belongs to another pool (an account switch the source will announce).
                return candidates.stream().filter(c -> c.user().equals(destination.user())).distinct().toList();
            }
            log.info("the credential command for {} now issues user {}: moving its tenants there", destination,
                    issued.user());
            onExternalAccountChange.run();
            return List.of();
        }
        List<BackendCredentials> found = new ArrayList<>();
        try {
            for (TenantRecord row : rows.find(destination.database(), destination.user())) {
                try {
                    if (destination.equals(decoder.destination(row))) {
                        BackendCredentials credentials = decoder.credentials(row);
                        if (!found.contains(credentials)) {
                            found.add(credentials);
                        }
                    }
                } catch (IllegalArgumentException e) {
                    log.warn("re-reading credentials of {}: skipping a row: {}", destination, e.getMessage());
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        log.info("re-read credentials of {} from perseus_auth: {}", destination, found);
        return found;
    }
}
