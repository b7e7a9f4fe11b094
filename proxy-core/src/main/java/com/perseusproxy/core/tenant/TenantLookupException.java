package com.perseusproxy.core.tenant;

/** The auth database could not answer a lookup. The message never contains the DSN's password. */
public class TenantLookupException extends Exception {
    public TenantLookupException(String message, Throwable cause) {
        super(message, cause);
    }
}
