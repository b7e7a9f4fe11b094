package com.perseusproxy.tools;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Watches proxy replicas' {@code /metrics} until each serves one backend with given credentials only: some pool of
 * {@code dest_host}/{@code dest_db} logs in with the new fingerprint ({@code perseus_pool_credentials}) and no open
 * connection of another fingerprint is left ({@code perseus_pool_credential_connections}). A replica with no pool for
 * that backend is done at once (it will log in with the new credentials when first needed). Fingerprints only: the
 * metrics never carry a secret, and neither does anything this prints.
 */
final class ReplicaWatch {

    /** A sample of either family; the labels in any order (the Prometheus client writes them sorted by name). */
    private static final Pattern SAMPLE = Pattern.compile(
            "(perseus_pool_credentials|perseus_pool_credential_connections)\\{([^}]*)} ([0-9.eE+-]+)");
    private static final Pattern LABEL = Pattern.compile("([a-z_]+)=\"([^\"]*)\"");

    /** One replica's state for the backend, as last read. */
    record State(boolean reachable, boolean done, String detail) {
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    private final String destHostLabel;
    private final String destDb;
    private final String fingerprint;

    ReplicaWatch(String destHostLabel, String destDb, String fingerprint) {
        this.destHostLabel = destHostLabel;
        this.destDb = destDb;
        this.fingerprint = fingerprint;
    }

    /** {@code host:port} or a URL, with or without {@code /metrics}. */
    static URI metricsUri(String replica) {
        String text = replica.strip();
        if (!text.contains("://")) {
            text = "http://" + (text.startsWith(":") ? "127.0.0.1" + text : text);
        }
        if (!text.endsWith("/metrics")) {
            text = text.replaceAll("/+$", "") + "/metrics";
        }
        return URI.create(text);
    }

    State check(URI replica) {
        String body;
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(replica).timeout(Duration.ofSeconds(5))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return new State(false, false, "HTTP " + response.statusCode());
            }
            body = response.body();
        } catch (IOException e) {
            return new State(false, false, "unreachable (" + e.getClass().getSimpleName() + ")");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new State(false, false, "interrupted");
        }
        List<String> poolFingerprints = new ArrayList<>();
        Map<String, Long> connections = new LinkedHashMap<>();
        for (String line : body.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            Matcher label = LABEL.matcher(m.group(2));
            while (label.find()) {
                labels.put(label.group(1), label.group(2));
            }
            String sampleFingerprint = labels.get("fingerprint");
            if (!destHostLabel.equals(labels.get("dest_host")) || !destDb.equals(labels.get("dest_db"))
                    || sampleFingerprint == null) {
                continue;
            }
            if (m.group(1).equals("perseus_pool_credentials")) {
                poolFingerprints.add(sampleFingerprint);
            } else {
                connections.merge(sampleFingerprint, (long) Double.parseDouble(m.group(3)), Long::sum);
            }
        }
        long old = connections.entrySet().stream().filter(e -> !e.getKey().equals(fingerprint))
                .mapToLong(Map.Entry::getValue).sum();
        long fresh = connections.getOrDefault(fingerprint, 0L);
        if (poolFingerprints.isEmpty() && connections.isEmpty()) {
            return new State(true, true, "no pool for this backend");
        }
        boolean onNew = poolFingerprints.contains(fingerprint);
        String detail = (onNew ? "logs in with secret:" + fingerprint : "still logs in with secret:"
                + String.join("/", poolFingerprints)) + ", " + fresh + " connections with the new credentials, "
                + old + " with older ones";
        return new State(true, onNew && old == 0, detail);
    }
}
