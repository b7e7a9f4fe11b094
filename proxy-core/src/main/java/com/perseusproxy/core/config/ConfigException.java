package com.perseusproxy.core.config;

/**
 * The configuration cannot be used. The message names the key (its full path, e.g.
 * {@code PoolSettings.MaxOpen}) or environment variable, what is allowed, and never contains a secret.
 */
public class ConfigException extends Exception {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
