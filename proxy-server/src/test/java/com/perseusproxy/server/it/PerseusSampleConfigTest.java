package com.perseusproxy.server.it;

import com.perseusproxy.core.secrets.FakeKms;
import com.perseusproxy.server.PerseusService;
import com.perseusproxy.server.config.ProxyConfig;
import com.perseusproxy.server.demo.SampleDatabase.SampleTenant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Perseus's own sample config file, unchanged, starts the service; the deployment-specific values come from
 * {@code PERSEUS_*} environment variables, as a Perseus deployment (e.g. in Kubernetes) sets them.
 */
class PerseusSampleConfigTest {

    /** The brief's copy of Perseus's sample, plus MetricsAddress and LogSettings. */
    static final String PERSEUS_SAMPLE = """
            {
              "ListenAddress": ":5433",
              "MetricsAddress": ":5000",
              "AuthDBSettings": { "AuthDBDSN": "postgres://user:pass@host:5432/db?sslmode=disable&pool_max_conns=4&pool_min_conns=2",
                                  "AuthQueryTimeoutSecs": 2 },
              "AWSSettings": { "AccessKeyId": "", "SecretAccessKey": "", "Region": "us-east-1", "Endpoint": "", "KMSKeyARN": "" },
              "PoolSettings": { "MaxIdle": 3, "MaxOpen": 5, "MaxLifetimeSecs": 3600, "MaxIdletimeSecs": 300,
                                "ConnCreateTimeoutSecs": 5, "ConnCloseTimeoutSecs": 1, "SchemaExecTimeoutSecs": 5 },
              "OverrideSettings": { },
              "LogSettings": { "Level": "INFO", "Json": true }
            }
            """;

    @TempDir
    Path dir;

    @Test
    void perseusSampleFileWithEnvironmentOverridesServesAKmsTenant() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, PERSEUS_SAMPLE);
        FakeKms kms = DropInProxy.kms();
        Map<String, String> env = Map.of(
                "PERSEUS_LISTENADDRESS", "127.0.0.1:0",
                "PERSEUS_METRICSADDRESS", "127.0.0.1:0",
                "PERSEUS_AUTHDBSETTINGS_AUTHDBDSN", DropInProxy.authDsn(),
                "PERSEUS_AWSSETTINGS_ACCESSKEYID", FakeKms.ACCESS_KEY_ID,
                "PERSEUS_AWSSETTINGS_SECRETACCESSKEY", FakeKms.SECRET_ACCESS_KEY,
                "PERSEUS_AWSSETTINGS_ENDPOINT", kms.endpoint(),
                "PERSEUS_AWSSETTINGS_KMSKEYARN", FakeKms.KEY_ARN,
                "PERSEUS_POOLSETTINGS_MAXOPEN", "2");
        ProxyConfig config = ProxyConfig.load(file, env);
        assertEquals(2, config.poolSettings().maxOpen());
        assertEquals(2, config.poolSettings().maxIdle(), "MaxIdle 3 is capped at the overridden MaxOpen");

        SampleTenant tenant = DropInProxy.tenant("sample_cfg", "sample_cfg_user", "sample-cfg-pw");
        DropInProxy.upsert(tenant, Fixtures.backend(), DropInProxy.genhash(tenant.password()),
                DropInProxy.encpassKms(TestPostgres.APP_OWNER.password()));
        try (PerseusService service = PerseusService.start(config)) {
            assertEquals(1, KmsDropInTest.selectOne(Targets.viaProxy(tenant, "127.0.0.1", service.port())));
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + service.metricsPort() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertTrue(health.body().contains("\"build_version\""), health.body());
        }
    }
}
