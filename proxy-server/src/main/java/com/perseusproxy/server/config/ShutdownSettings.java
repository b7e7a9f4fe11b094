package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import java.time.Duration;

/**
 * {@code ShutdownSettings}: how a SIGTERM or SIGINT drains the proxy.
 *
 * @param drainTimeout   {@code DrainTimeoutSecs} (default 25): how long transactions in flight may take to finish
 *                       before every remaining connection is closed. Below Kubernetes' default grace period of 30 s,
 *                       so the proxy closes its connections itself (with an error clients can read) before the
 *                       kubelet sends SIGKILL.
 * @param readinessGrace {@code ReadinessGraceSecs} (default 0): how long the proxy goes on accepting and serving as
 *                       usual after {@code /ready} starts failing, before it closes its listener and drains. A load
 *                       balancer notices a failed health check only at its next check; until then it still sends
 *                       new connections, which a closed listener would refuse.
 */
public record ShutdownSettings(Duration drainTimeout, Duration readinessGrace) {

    public static final int DEFAULT_DRAIN_TIMEOUT_SECS = 25;
    public static final int MAX_READINESS_GRACE_SECS = 300;

    public static ShutdownSettings defaults() {
        return new ShutdownSettings(Duration.ofSeconds(DEFAULT_DRAIN_TIMEOUT_SECS), Duration.ZERO);
    }

    static ShutdownSettings read(JsonSection s) throws ConfigException {
        return new ShutdownSettings(
                Duration.ofSeconds(s.integer("DrainTimeoutSecs", DEFAULT_DRAIN_TIMEOUT_SECS, 0, 86400,
                        "seconds transactions in flight may take to finish after SIGTERM; 0 = close at once")),
                Duration.ofSeconds(s.integer("ReadinessGraceSecs", 0, 0, MAX_READINESS_GRACE_SECS,
                        "seconds the proxy keeps accepting after /ready fails, so a load balancer's health check"
                                + " notices first; 0 = stop accepting at once")));
    }
}
