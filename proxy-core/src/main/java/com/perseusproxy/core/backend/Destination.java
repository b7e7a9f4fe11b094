package com.perseusproxy.core.backend;

/**
 * Where a tenant's transactions run: one backend pool per destination, shared by every tenant routed there.
 * Built from {@code dest_host} ({@code host} or {@code host:port}), {@code dest_db} and {@code dest_user}.
 */
public record Destination(String host, int port, String database, String user) {

    public static final int DEFAULT_PORT = 5432;

    /** Parses {@code dest_host} as Perseus stores it: {@code host}, {@code host:port} or {@code [v6addr]:port}. */
    public static Destination of(String destHost, String database, String user) {
        String host = destHost.trim();
        int port = DEFAULT_PORT;
        if (host.startsWith("[")) {
            int close = host.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("dest_host '" + destHost + "' has an unclosed '['");
            }
            String rest = host.substring(close + 1);
            if (rest.startsWith(":")) {
                port = parsePort(destHost, rest.substring(1));
            } else if (!rest.isEmpty()) {
                throw new IllegalArgumentException("dest_host '" + destHost + "' has '" + rest + "' after ']'"
                        + " (expected [address]:port)");
            }
            host = host.substring(1, close);
        } else {
            int colon = host.lastIndexOf(':');
            if (colon >= 0 && host.indexOf(':') == colon) {
                port = parsePort(destHost, host.substring(colon + 1));
                host = host.substring(0, colon);
            }
        }
        if (host.isEmpty()) {
            throw new IllegalArgumentException("dest_host is empty");
        }
        return new Destination(host, port, database, user);
    }

    private static int parsePort(String destHost, String text) {
        try {
            int port = Integer.parseInt(text);
            if (port < 1 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("dest_host '" + destHost + "' has an invalid port '" + text + "'");
        }
    }

    /** {@code host:port/database} as user, for logs and errors. */
    @Override
    public String toString() {
        return user + "@" + host + ":" + port + "/" + database;
    }
}
