package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.server.PerseusService;
import org.junit.jupiter.api.Test;

/** {@code GET /ready}: ready with a reachable auth database, 503 while it is unreachable. */
class ReadinessTest {

    @Test
    void readyOnlyWhileTheAuthDatabaseAnswers() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's readiness is what is tested");
        int closedPort = OpsProxy.freePort(); // nothing listens there
        String metrics = ", \"MetricsAddress\": \"127.0.0.1:0\"";
        try (PerseusService healthy = OpsProxy.start(OpsProxy.config("127.0.0.1:0", OpsProxy.authDsn(), 2, "",
                metrics));
             PerseusService broken = OpsProxy.start(OpsProxy.config("127.0.0.1:0",
                     "postgres://postgres@127.0.0.1:" + closedPort + "/perseus?sslmode=disable", 2, "", metrics))) {
            ShutdownTest.awaitStatus(healthy.metricsPort(), "/ready", 200, 15);
            ShutdownTest.awaitStatus(broken.metricsPort(), "/ready", 503, 15);
            assertEquals(200, ShutdownTest.status(broken.metricsPort(), "/health"), "liveness is not readiness");
        }
    }
}
