package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import java.time.Duration;

/**
 * {@code ShutdownSettings}: how a SIGTERM or SIGINT drains the proxy.
 *
 * @param drainTimeout {@code DrainTimeoutSecs} (default 25): how long transactions in flight may take to finish
 *                     before every remaining connection is closed. Below Kubernetes' default grace period of 30 s, so
 *                     the proxy closes its connections itself (with an error clients can read) before the kubelet
 *                     sends SIGKILL.
 */
public record ShutdownSettings(Duration drainTimeout) {

    public static final int DEFAULT_DRAIN_TIMEOUT_SECS = 25;

    public static ShutdownSettings defaults() {
        return new ShutdownSettings(Duration.ofSeconds(DEFAULT_DRAIN_TIMEOUT_SECS));
    }

    static ShutdownSettings read(JsonSection s) throws ConfigException {
        return new ShutdownSettings(Duration.ofSeconds(s.integer("DrainTimeoutSecs", DEFAULT_DRAIN_TIMEOUT_SECS, 0,
                86400, "seconds transactions in flight may take to finish after SIGTERM; 0 = close at once")));
    }
}
