package com.perseusproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.PoolSettings;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ProxySmokeTest {

    @Test
    void pgjdbcQueriesThroughProxy() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().start()) {
            try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
                s.execute("CREATE ROLE app LOGIN PASSWORD 'apppw'");
                s.execute("CREATE SCHEMA t1 AUTHORIZATION app");
                s.execute("CREATE TABLE t1.notes(id int, body text)");
                s.execute("INSERT INTO t1.notes VALUES (1, 'hello t1')");
                s.execute("GRANT ALL ON t1.notes TO app");
            }
            Destination dest = new Destination("127.0.0.1", pg.getPort(), "postgres", "app");
            ProxyServer.Options options = new ProxyServer.Options(new java.net.InetSocketAddress("127.0.0.1", 0),
                    req -> CompletableFuture.completedFuture(new TenantRoute(req.database(), req.schema(), req.user(),
                            dest, new BackendCredentials("app", "apppw"))),
                    d -> PoolSettings.defaults(), Duration.ofSeconds(10), 1 << 20);
            try (ProxyServer proxy = ProxyServer.start(options)) {
                String url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/postgres?currentSchema=t1&prepareThreshold=0";
                try (Connection c = DriverManager.getConnection(url, "alice", "x")) {
                    for (int i = 0; i < 3; i++) {
                        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select body from notes")) {
                            rs.next();
                            assertEquals("hello t1", rs.getString(1));
                        }
                    }
                    c.setAutoCommit(false);
                    try (Statement s = c.createStatement()) {
                        s.execute("insert into notes values (2, 'two')");
                    }
                    c.rollback();
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select count(*) from notes")) {
                        rs.next();
                        assertEquals(1, rs.getInt(1));
                    }
                }
            }
        }
    }
}
