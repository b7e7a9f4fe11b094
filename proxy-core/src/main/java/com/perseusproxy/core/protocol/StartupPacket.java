package com.perseusproxy.core.protocol;

import java.util.Map;

/** The untagged messages a client may open a connection with. Decoded into plain objects (they are small). */
public sealed interface StartupPacket {

    /** StartupMessage: protocol version and parameters (user, database, options, ...), in arrival order. */
    record Startup(int majorVersion, int minorVersion, Map<String, String> parameters) implements StartupPacket {
        @Override
        public String toString() {
            return "Startup[" + majorVersion + "." + minorVersion + ", " + parameters.keySet() + "]";
        }
    }

    /** SSLRequest: the client asks for TLS before startup. */
    record SslRequest() implements StartupPacket {
    }

    /** GSSENCRequest: the client asks for GSSAPI encryption before startup. */
    record GssEncRequest() implements StartupPacket {
    }

    /**
     * CancelRequest: sent on a fresh connection, names the session whose query to cancel.
     *
     * @param forwarded sent on by a peer replica (PeerCancelForwarder): acted on locally, never forwarded again
     */
    record Cancel(int processId, int secretKey, boolean forwarded) implements StartupPacket {
        public Cancel(int processId, int secretKey) {
            this(processId, secretKey, false);
        }

        @Override
        public String toString() {
            return "Cancel[pid=" + processId + "]";
        }
    }
}
