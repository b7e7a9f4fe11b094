package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.server.PerseusService;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** An unreachable auth database: its clients get a clear 57P03; everyone else carries on. */
class AuthDatabaseDownTest {

    @Test
    void loginsFailClearlyWhileOtherProxiesAndClientsCarryOn() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's auth database is what is tested");
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort(); // free again once closed: nothing listens there
        }
        Target healthy = Targets.forTenant(Fixtures.TENANT_A);
        try (Connection bystander = healthy.connect();
             PerseusService broken = TestProxy.startDedicated(2,
                     "postgres://postgres@127.0.0.1:" + closedPort + "/perseus?sslmode=disable")) {
            Target viaBroken = Targets.viaProxy(Fixtures.TENANT_A, "127.0.0.1", broken.port());
            SQLException e = assertThrows(SQLException.class, () -> viaBroken.connect().close());
            assertEquals("57P03", e.getSQLState(), e.getMessage());
            try (Statement st = bystander.createStatement(); ResultSet rs = st.executeQuery("select 1")) {
                rs.next();
                assertEquals(1, rs.getInt(1));
            }
            healthy.connect().close(); // new logins to the healthy proxy still work
        }
    }
}
