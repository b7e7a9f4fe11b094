package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.net.Transport;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * An upgrade on one host with SO_REUSEPORT: a second proxy process binds the port the first one listens on, then the
 * first gets SIGTERM and drains. pgbench -C (a new connection per transaction) through that port sees no failure.
 */
class ReusePortUpgradeTest {

    private static Process spawn(Path dir, String name, int port) throws Exception {
        Path config = dir.resolve(name + ".json");
        Files.writeString(config, OpsProxy.config("127.0.0.1:" + port, OpsProxy.authDsn(), 4, "",
                ", \"ShutdownSettings\": { \"DrainTimeoutSecs\": 20 }, \"PeerSettings\": { \"HeartbeatSecs\": 0 }"));
        Path log = dir.resolve(name + ".log");
        Process p = OpsProxy.spawn(config, log);
        OpsProxy.awaitLog(log, "SO_REUSEPORT", 60);
        return p;
    }

    @Test
    void aSecondProcessTakesOverThePortWhileTheFirstDrains() throws Exception {
        assumeTrue(Targets.viaProxy(), "the proxy's listener is what is tested");
        assumeTrue(Transport.supportsReusePort(), "SO_REUSEPORT needs Netty's epoll transport");
        assumeTrue(new File("/bin/kill").canExecute() || new File("/usr/bin/kill").canExecute(), "no kill command");
        PgTools.require("pgbench");
        OpsReloadTest.initialisePgbench();
        Path dir = Files.createTempDirectory("perseus-reuseport");
        int port = OpsProxy.freePort();
        Process first = spawn(dir, "first", port);
        Process second = null;
        try {
            Target bench = Targets.viaProxy(Fixtures.BENCH, "127.0.0.1", port);
            Process load = PgTools.start(PgTools.pgbench(bench, "--no-vacuum", "-C", "-c", "4", "-j", "2",
                    "-T", "16"), bench);
            Thread.sleep(3000);
            second = spawn(dir, "second", port);
            Thread.sleep(1000);
            OpsProxy.signal(first, "TERM");
            assertTrue(first.waitFor(30, TimeUnit.SECONDS), Files.readString(dir.resolve("first.log")));
            assertEquals(0, first.exitValue(), Files.readString(dir.resolve("first.log")));
            assertTrue(load.isAlive(), "pgbench still runs, now served by the second process");
            assertTrue(load.waitFor(60, TimeUnit.SECONDS), "pgbench ends");
            String output = new String(load.getInputStream().readAllBytes());
            assertEquals(0, load.exitValue(), output);
            assertTrue(!output.contains("aborted") && !output.contains("error"), output);
            Matcher failed = Pattern.compile("number of failed transactions: (\\d+)").matcher(output);
            if (failed.find()) {
                assertEquals(0, Integer.parseInt(failed.group(1)), output);
            }
            assertTrue(second.isAlive(), "the second process serves on");
        } finally {
            first.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            if (second != null) {
                second.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
    }
}
