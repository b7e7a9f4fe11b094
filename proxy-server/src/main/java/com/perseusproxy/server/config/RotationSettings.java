package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How the proxy notices changes to {@code perseus_auth} without a restart (keys of {@code AuthDBSettings}).
 *
 * @param refreshInterval {@code RefreshIntervalSecs}, default 30; 0 turns the periodic re-read off
 * @param notifyChannel   {@code NotifyChannel}, default {@code perseus_auth_changed}: the channel the proxy LISTENs
 *                        on for an immediate re-read; empty turns listening off
 */
public record RotationSettings(Duration refreshInterval, String notifyChannel) {

    public static final String DEFAULT_CHANNEL = "perseus_auth_changed";
    /** LISTEN takes an identifier; a plain one needs no quoting and cannot inject SQL. */
    private static final Pattern CHANNEL = Pattern.compile("[a-z_][a-z0-9_$]{0,62}");

    public static RotationSettings defaults() {
        return new RotationSettings(Duration.ofSeconds(30), DEFAULT_CHANNEL);
    }

    static RotationSettings read(JsonSection authDb) throws ConfigException {
        int seconds = authDb.integer("RefreshIntervalSecs", 30, 0, 86400,
                "seconds between re-reads of the perseus_auth rows in use; 0 = off");
        String channel = authDb.string("NotifyChannel", DEFAULT_CHANNEL).strip();
        if (!channel.isEmpty() && !CHANNEL.matcher(channel).matches()) {
            throw new ConfigException(authDb.join("NotifyChannel") + " must be a lower-case identifier (letters,"
                    + " digits, _; at most 63 characters) or empty to turn listening off, got \"" + channel + "\"");
        }
        return new RotationSettings(Duration.ofSeconds(seconds), channel);
    }
}
