package com.perseusproxy.core.tls;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import javax.net.ssl.SSLException;

/** Recognises TLS failures raised through a pipeline and says what went wrong, without leaking the bytes seen. */
public final class TlsFailures {

    private TlsFailures() {
    }

    /** Whether the exception comes from a failed or broken TLS session (as opposed to the PostgreSQL protocol). */
    public static boolean isTlsFailure(Throwable cause) {
        return cause instanceof SSLException || cause instanceof NotSslRecordException
                || (cause instanceof DecoderException && cause.getCause() instanceof SSLException);
    }

    /**
     * The innermost message: the JDK's explanation of what was wrong with the handshake. Netty's "not an SSL/TLS
     * record" message carries a hex dump of the bytes, which may be a plaintext password: never logged.
     */
    public static String reason(Throwable cause) {
        Throwable root = cause;
        while (true) {
            if (root instanceof NotSslRecordException) {
                return "the peer sent data that is not TLS (plaintext after the SSL answer?)";
            }
            if (root.getCause() == null || root.getCause() == root) {
                break;
            }
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
    }
}
