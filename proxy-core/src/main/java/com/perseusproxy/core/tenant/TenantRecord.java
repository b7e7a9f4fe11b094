package com.perseusproxy.core.tenant;

/**
 * One row of {@code perseus_auth}: how a tenant (source database + schema) logs in, and where its transactions run.
 * {@link #toString()} never prints the hash or the ciphertext.
 */
public record TenantRecord(
        long id,
        String sourceDb,
        String sourceSchema,
        String sourceUser,
        String sourcePassHashed,
        String destHost,
        String destDb,
        String destPassEnc,
        String destUser) {

    @Override
    public String toString() {
        return "TenantRecord[id=" + id + ", source=" + sourceDb + "/" + sourceSchema + " as " + sourceUser
                + ", dest=" + destHost + "/" + destDb + " as " + destUser + "]";
    }
}
