package com.perseusproxy.server.config;

import java.time.Duration;

/**
 * {@code ClientSettings}: limits on what clients may cost the proxy.
 *
 * @param loginTimeout            {@code LoginTimeoutSecs} (default 60): from TCP accept to authenticated
 * @param maxConcurrentHashChecks {@code MaxConcurrentHashChecks} as written; 0 (default) means one per processor,
 *                                see {@link #effectiveMaxConcurrentHashChecks()}
 * @param maxMessageBytes         {@code MaxMessageBytes} (default 64 MiB): the largest client message accepted
 */
public record ClientSettings(Duration loginTimeout, int maxConcurrentHashChecks, int maxMessageBytes) {

    public int effectiveMaxConcurrentHashChecks() {
        return maxConcurrentHashChecks > 0 ? maxConcurrentHashChecks : Runtime.getRuntime().availableProcessors();
    }
}
