package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import java.net.InetSocketAddress;

/**
 * A listen address as Go writes it: {@code :5433} (all interfaces), {@code 127.0.0.1:6432} or {@code [::1]:5433}.
 *
 * @param host null for all interfaces
 * @param port 0 asks the OS for a free port (handy in tests)
 */
public record ListenAddress(String host, int port) {

    public static ListenAddress parse(String text, String key) throws ConfigException {
        String s = text.strip();
        int colon = s.lastIndexOf(':');
        if (colon < 0) {
            throw invalid(text, key, "it has no port");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw invalid(text, key, "an IPv6 address needs brackets");
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw invalid(text, key, "the port is not a number");
        }
        if (port < 0 || port > 65535) {
            throw invalid(text, key, "the port is outside 0-65535");
        }
        return new ListenAddress(host.isEmpty() ? null : host, port);
    }

    public boolean allInterfaces() {
        return host == null;
    }

    /** Resolves the host name, so call it at startup, not on an event loop. */
    public InetSocketAddress toSocketAddress() {
        return allInterfaces() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        if (host == null) {
            return ":" + port;
        }
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static ConfigException invalid(String text, String key, String problem) {
        return new ConfigException(key + " \"" + text + "\" is not a listen address (" + problem
                + "): use host:port, e.g. \":5433\" for all interfaces, \"127.0.0.1:5433\" or \"[::1]:5433\"");
    }
}
