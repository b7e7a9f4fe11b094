package com.perseusproxy.core.backend;

import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import io.netty.buffer.ByteBuf;
import java.util.Map;

/** The client session that currently leases a backend connection hears about its traffic through this. */
public interface BackendListener {

    /** A message for the client. Ownership passes to the listener, which must write or release it. */
    void onBackendMessage(PgMessage message);

    /**
     * Several whole messages for the client that the proxy forwards exactly as the server sent them (a result set,
     * its CommandComplete, ...), in one buffer: one write. Ownership passes, as with {@link #onBackendMessage}. No
     * ErrorResponse, ParameterStatus or COPY response is ever among them (those come one by one); a ReadyForQuery is
     * only ever the last.
     *
     * @param endsWithReady whether the last message is a ReadyForQuery (a query's end)
     */
    void onBackendRun(ByteBuf run, boolean endsWithReady);

    /**
     * After the client's own SET, RESET or DISCARD ALL, the proxy asked the backend for the current values of the
     * tracked settings the server does not report; here they are (name to value), to carry to the next backend.
     */
    default void onSettingsLearned(Map<String, String> values) {
    }

    /** The backend's socket has no more to read for now: a good moment to flush towards the client. */
    void onBackendReadComplete();

    /** Everything the client sent has been answered and no transaction is open: the lease may end. */
    void onBackendIdle();

    /** The tenant-switch reset has completed: the client's messages, held until now, may be sent. */
    void onLeaseReady();

    /**
     * The tenant-switch reset failed: this connection has been closed before any of the client's messages were sent
     * on it. The listener releases it to the pool and leases another.
     */
    void onLeaseRetry();

    /** The proxy's own per-lease statements (search_path, settings) failed. */
    void onLeaseSetupFailed(PgException error);

    /** The backend connection was lost while leased. */
    void onBackendLost();

    /** The backend can take more (or no more) data: mirror it on the client's reads (backpressure). */
    void onBackendWritabilityChanged(boolean writable);
}
