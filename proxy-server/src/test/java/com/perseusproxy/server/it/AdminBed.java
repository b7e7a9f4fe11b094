package com.perseusproxy.server.it;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import com.perseusproxy.server.config.ProxyConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A proxy with the admin console on (AdminSettings with one admin and one stats user), and helpers to talk to the
 * console over the raw protocol. The caller closes the proxy.
 */
final class AdminBed implements AutoCloseable {

    static final String ADMIN = "console_admin";
    static final String ADMIN_PASSWORD = "console-admin-pw-7";
    static final String STATS = "console_stats";
    static final String STATS_PASSWORD = "console-stats-pw-8";
    /** Made once: each hash costs one scrypt run. */
    private static String adminHash;
    private static String statsHash;

    final PerseusService proxy;
    final String json;

    private AdminBed(PerseusService proxy, String json) {
        this.proxy = proxy;
        this.json = json;
    }

    static synchronized String adminHash() {
        if (adminHash == null) {
            adminHash = EasyScrypt.hash(ADMIN_PASSWORD);
            statsHash = EasyScrypt.hash(STATS_PASSWORD);
        }
        return adminHash;
    }

    static synchronized String statsHash() {
        adminHash();
        return statsHash;
    }

    /** @param extraTop more top-level JSON, starting with a comma, or "" */
    static AdminBed start(int maxOpen, String extraTop) {
        return start(maxOpen, 60, extraTop);
    }

    static AdminBed start(int maxOpen, int queryWaitTimeoutSecs, String extraTop) {
        String json = OpsProxy.config("127.0.0.1:0", OpsProxy.authDsn(), maxOpen, "",
                ", \"AdminSettings\": { \"AdminUsers\": { \"" + ADMIN + "\": \"" + adminHash() + "\" },"
                        + " \"StatsUsers\": { \"" + STATS + "\": \"" + statsHash() + "\" } }" + extraTop)
                .replace("\"QueryWaitTimeoutSecs\": 60", "\"QueryWaitTimeoutSecs\": " + queryWaitTimeoutSecs);
        PerseusService proxy = OpsProxy.start(json);
        proxy.configSource(() -> ProxyConfig.parse(json, Map.of())); // RELOAD re-reads this
        return new AdminBed(proxy, json);
    }

    int port() {
        return proxy.port();
    }

    /** The console as a psql/pgbench target. */
    Target console(String user, String password) {
        return new Target("127.0.0.1", port(), "pgbouncer", user, password, "unused");
    }

    Target admin() {
        return console(ADMIN, ADMIN_PASSWORD);
    }

    Target tenant(SampleTenant tenant) {
        return Targets.viaProxy(tenant, "127.0.0.1", port());
    }

    /** A logged-in raw console connection. */
    PgWire adminWire() {
        PgWire wire = PgWire.open(admin());
        wire.login(admin(), PgWire.PROTOCOL_3_0, Map.of("user", ADMIN, "database", "pgbouncer"));
        return wire;
    }

    /** The columns of a RowDescription: "name:typeoid" each. */
    static List<String> columns(List<PgWire.Message> messages) {
        for (PgWire.Message m : messages) {
            if (m.type() == 'E') {
                throw new AssertionError("console error: " + m);
            }
            if (m.type() == 'T') {
                byte[] b = m.body();
                int count = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
                int i = 2;
                List<String> columns = new ArrayList<>();
                for (int c = 0; c < count; c++) {
                    int end = i;
                    while (b[end] != 0) {
                        end++;
                    }
                    String name = new String(b, i, end - i, StandardCharsets.UTF_8);
                    i = end + 1;
                    int type = m.int32(i + 6);
                    columns.add(name + ":" + type);
                    i += 18;
                }
                return columns;
            }
        }
        throw new AssertionError("no RowDescription in " + messages);
    }

    /** Every DataRow as a list of text values (null for SQL NULL). */
    static List<List<String>> rows(List<PgWire.Message> messages) {
        List<List<String>> rows = new ArrayList<>();
        for (PgWire.Message m : messages) {
            if (m.type() == 'D') {
                byte[] b = m.body();
                int count = ((b[0] & 0xff) << 8) | (b[1] & 0xff);
                int i = 2;
                List<String> row = new ArrayList<>();
                for (int c = 0; c < count; c++) {
                    int len = m.int32(i);
                    i += 4;
                    row.add(len < 0 ? null : new String(b, i, len, StandardCharsets.UTF_8));
                    i += Math.max(len, 0);
                }
                rows.add(row);
            }
        }
        return rows;
    }

    /** The value of a named column in each row. */
    static List<String> column(List<PgWire.Message> messages, String name) {
        List<String> names = columns(messages).stream().map(c -> c.substring(0, c.lastIndexOf(':'))).toList();
        int index = names.indexOf(name);
        if (index < 0) {
            throw new AssertionError("no column " + name + " in " + names);
        }
        return rows(messages).stream().map(r -> r.get(index)).toList();
    }

    @Override
    public void close() {
        proxy.close();
    }
}
