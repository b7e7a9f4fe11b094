package com.perseusproxy.core.rotation;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.secrets.SecretDecryptionException;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.tenant.TenantRecord;

/**
 * Turns a {@code perseus_auth} row into where its tenant's transactions run and with which decrypted credentials,
 * outside a login: for refreshes and for pools re-reading their credentials. Blocking (KMS), so never on an event
 * loop. Problems are reported as {@link IllegalArgumentException}s whose messages name the row and never a secret.
 */
final class TenantRowDecoder {

    private final SecretDecryptor decryptor;

    TenantRowDecoder(SecretDecryptor decryptor) {
        this.decryptor = decryptor;
    }

    Destination destination(TenantRecord row) {
        if (isBlank(row.destHost()) || isBlank(row.destDb()) || isBlank(row.destUser())) {
            throw new IllegalArgumentException("perseus_auth row id " + row.id() + " has an empty dest_host, dest_db"
                    + " or dest_user");
        }
        try {
            return Destination.of(row.destHost(), row.destDb(), row.destUser());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("perseus_auth row id " + row.id() + ": " + e.getMessage());
        }
    }

    BackendCredentials credentials(TenantRecord row) {
        try {
            return new BackendCredentials(row.destUser(), decryptor.decrypt(row.destPassEnc()));
        } catch (SecretDecryptionException e) {
            throw new IllegalArgumentException("the dest_pass_enc of perseus_auth row id " + row.id()
                    + " could not be decrypted (" + e.getMessage() + ")");
        }
    }

    private static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }
}
