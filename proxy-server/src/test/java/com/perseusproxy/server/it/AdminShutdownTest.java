package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.util.List;
import org.junit.jupiter.api.Test;

/** SHUTDOWN from the console runs the graceful shutdown, as SIGTERM does; WAIT_FOR_CLIENTS waits for the clients. */
class AdminShutdownTest {

    @Test
    void shutdownDrainsLikeSigterm() throws Exception {
        try (AdminBed bed = AdminBed.start(2, ""); PgWire tenant = PgWire.open(bed.tenant(Fixtures.TENANT_A));
             PgWire admin = bed.adminWire()) {
            tenant.login(bed.tenant(Fixtures.TENANT_A));
            PgTools.Result r = PgTools.run(PgTools.psql(bed.admin(), "-c", "SHUTDOWN"), bed.admin(),
                    java.time.Duration.ofSeconds(30));
            assertTrue(r.ok(), "psql runs SHUTDOWN: " + r.describe());
            PgWire.Message error = tenant.awaitErrorOrClose();
            assertNotNull(error, "the idle client is told why it is closed");
            assertEquals("57P01", error.sqlState());
            assertTrue(stopsAccepting(bed.port()), "the listening socket closed");
        }
    }

    @Test
    void shutdownWaitForClientsWaitsUntilTheLastOneLeaves() throws Exception {
        try (AdminBed bed = AdminBed.start(2, "")) {
            PgWire tenant = PgWire.open(bed.tenant(Fixtures.TENANT_A));
            tenant.login(bed.tenant(Fixtures.TENANT_A));
            try (PgWire admin = bed.adminWire()) {
                assertEquals("CZ", PgWire.types(admin.simpleQuery("shutdown wait_for_clients;")));
            }
            assertTrue(stopsAccepting(bed.port()), "no new connections once SHUTDOWN WAIT_FOR_CLIENTS began");
            Thread.sleep(500);
            assertEquals(List.of("1"), tenant.queryColumn("select 1"), "the connected client is still served");
            tenant.terminate();
            tenant.close();
        }
    }

    private static boolean stopsAccepting(int port) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                Thread.sleep(100);
            } catch (IOException refused) {
                return true;
            }
        }
        return false;
    }
}
