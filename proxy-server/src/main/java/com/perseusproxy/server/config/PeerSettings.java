package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Map;

/**
 * {@code PeerSettings}: how replicas behind one load balancer find each other (cancel forwarding, the global backend
 * budget). See docs/CONFIG.md and docs/PEERS.md.
 *
 * @param id            this replica's name in {@code perseus_peers}; unique per live process
 * @param peers         static {@code host:port} list (client ports, the same order on every replica); empty =
 *                      discovery through the auth database
 * @param heartbeatSecs how often the row is refreshed; a peer silent for 3 heartbeats is expired. 0 = peers off
 */
public record PeerSettings(String id, List<String> peers, int heartbeatSecs) {

    static final List<String> KEYS = List.of("Id", "Peers", "HeartbeatSecs");
    public static final int DEFAULT_HEARTBEAT_SECS = 5;

    public PeerSettings {
        peers = List.copyOf(peers);
    }

    public boolean enabled() {
        return heartbeatSecs > 0 || !peers.isEmpty();
    }

    public boolean discovery() {
        return peers.isEmpty() && heartbeatSecs > 0;
    }

    public static PeerSettings defaults(Map<String, String> env) {
        return new PeerSettings(defaultId(env), List.of(), DEFAULT_HEARTBEAT_SECS);
    }

    static PeerSettings read(JsonSection s, Map<String, String> env) throws ConfigException {
        String id = s.string("Id", "").strip();
        if (id.isEmpty()) {
            id = defaultId(env);
        }
        if (id.length() > 253) {
            throw new ConfigException(s.join("Id") + " must be at most 253 characters");
        }
        List<String> peers = s.stringList("Peers", List.of());
        for (String peer : peers) {
            int colon = peer.lastIndexOf(':');
            if (colon <= 0 || !peer.substring(colon + 1).matches("[0-9]{1,5}")) {
                throw new ConfigException(s.join("Peers") + " entries must be host:port (a replica's client port),"
                        + " got \"" + peer + "\"");
            }
        }
        if (peers.size() > com.perseusproxy.core.peers.CancelKeyBits.MAX_SLOT) {
            throw new ConfigException(s.join("Peers") + " may list at most 255 replicas");
        }
        int heartbeat = s.integer("HeartbeatSecs", DEFAULT_HEARTBEAT_SECS, 0, 3600,
                "seconds between heartbeats in perseus_peers; 0 = peers off unless Peers is set");
        return new PeerSettings(id, peers, heartbeat);
    }

    /**
     * The pod name on Kubernetes (POD_NAME from the downward API, else HOSTNAME, which Kubernetes sets to it), else
     * the host name plus the process id: two processes on one host (an SO_REUSEPORT upgrade) must not share an Id.
     */
    static String defaultId(Map<String, String> env) {
        String pod = env.get("POD_NAME");
        if (pod != null && !pod.isBlank()) {
            return pod.strip();
        }
        String host = env.get("HOSTNAME");
        if (env.containsKey("KUBERNETES_SERVICE_HOST") && host != null && !host.isBlank()) {
            return host.strip();
        }
        if (host == null || host.isBlank()) {
            try {
                host = InetAddress.getLocalHost().getHostName();
            } catch (UnknownHostException e) {
                host = "perseus";
            }
        }
        return host.strip() + "-" + ProcessHandle.current().pid();
    }
}
