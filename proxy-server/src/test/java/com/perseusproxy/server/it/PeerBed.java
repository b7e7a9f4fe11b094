package com.perseusproxy.server.it;

import com.perseusproxy.server.PerseusService;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Replicas for the peer tests. They share an auth database of their own (a copy of the sample tenants' perseus_auth),
 * so the other tests' proxies, which register in the main auth database, are not their peers and do not take a
 * share of their budget.
 */
final class PeerBed {

    static final String AUTH_DB = "perseus_peers_it";
    private static boolean made;

    private PeerBed() {
    }

    /** The isolated auth database, with perseus_auth copied from the sample one and perseus_peers emptied. */
    static synchronized String authDsn() throws Exception {
        TestPostgres pg = Fixtures.postgres();
        if (!made) {
            if (pg.queryLong("postgres", "select count(*) from pg_database where datname = '" + AUTH_DB + "'") == 0) {
                pg.execute("postgres", "CREATE DATABASE " + AUTH_DB);
            }
            copyAuthTable(pg);
            made = true;
        }
        pg.execute(AUTH_DB, "DROP TABLE IF EXISTS perseus_peers");
        return "postgres://postgres@%s:%d/%s?sslmode=disable&pool_max_conns=4".formatted(pg.host(), pg.port(),
                AUTH_DB);
    }

    private static void copyAuthTable(TestPostgres pg) throws Exception {
        try (Connection from = pg.superuserConnection(TestPostgres.AUTH_DB);
             Connection to = pg.superuserConnection(AUTH_DB);
             Statement read = from.createStatement();
             ResultSet rows = read.executeQuery("select * from perseus_auth")) {
            ResultSetMetaData meta = rows.getMetaData();
            List<String> columns = new ArrayList<>();
            for (int i = 1; i <= meta.getColumnCount(); i++) {
                columns.add(meta.getColumnName(i));
            }
            try (Statement st = to.createStatement()) {
                st.execute("DROP TABLE IF EXISTS perseus_auth");
                st.execute("CREATE TABLE perseus_auth (" + String.join(", ",
                        columns.stream().map(c -> c + (c.equals("id") ? " integer" : " text")).toList()) + ")");
            }
            String insert = "insert into perseus_auth (" + String.join(", ", columns) + ") values ("
                    + String.join(", ", columns.stream().map(c -> "?").toList()) + ")";
            try (PreparedStatement ins = to.prepareStatement(insert)) {
                while (rows.next()) {
                    for (int i = 1; i <= columns.size(); i++) {
                        if (columns.get(i - 1).equals("id")) {
                            ins.setInt(i, rows.getInt(i));
                        } else {
                            ins.setString(i, rows.getString(i));
                        }
                    }
                    ins.executeUpdate();
                }
            }
        }
    }

    /** An in-process replica on free ports, heartbeating every second. */
    static PerseusService replica(String authDsn, String id, int maxOpen, String extraPool) {
        return OpsProxy.start(OpsProxy.config("127.0.0.1:0", authDsn, maxOpen, extraPool,
                ", \"MetricsAddress\": \"127.0.0.1:0\", \"PeerSettings\": { \"Id\": \"" + id
                        + "\", \"HeartbeatSecs\": 1 }"));
    }

    /**
     * One series of the replica's {@code /metrics}, scraped over HTTP as Prometheus would (name with its labels as
     * written, e.g. {@code perseus_peer_budget_share{dest_db="appdb",dest_host="127.0.0.1:5432"}}); 0 when absent.
     */
    static double metric(PerseusService replica, String series) throws Exception {
        return metrics(replica).getOrDefault(series, 0.0);
    }

    /** Every series of the replica's {@code /metrics}. */
    static java.util.Map<String, Double> metrics(PerseusService replica) throws Exception {
        java.net.http.HttpResponse<String> response = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + replica.metricsPort()
                        + "/metrics")).timeout(java.time.Duration.ofSeconds(10)).GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("/metrics answered " + response.statusCode());
        }
        return MetricsUnderLoadTest.samples(response.body());
    }

    /** Waits until every replica sees {@code live} live replicas. */
    static void awaitLive(List<PerseusService> replicas, int live, long seconds) throws InterruptedException {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (replicas.stream().allMatch(r -> r.peers().view().liveCount() == live)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("replicas do not all see " + live + " live peers: "
                + replicas.stream().map(r -> r.peers().view().toString()).toList());
    }
}
