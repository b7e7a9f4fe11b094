package com.perseusproxy.core.config;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuthDbDsnTest {

    @Test
    void parsesPerseusSampleDsn() throws Exception {
        AuthDbDsn dsn = AuthDbDsn.parse(
                "postgres://mmuser:mostest@localhost:5432/loadtest?sslmode=disable&pool_max_conns=4&pool_min_conns=2");
        assertEquals("mmuser", dsn.user());
        assertEquals("mostest", dsn.password());
        assertEquals(List.of("localhost:5432"), dsn.hosts());
        assertEquals("loadtest", dsn.database());
        assertEquals(new AuthDbPool(4, 2, Duration.ofHours(1), Duration.ofMinutes(30), Duration.ofMinutes(1),
                Duration.ZERO), dsn.pool());
        assertEquals("jdbc:postgresql://localhost:5432/loadtest?sslmode=disable", dsn.jdbcUrl());
        assertEquals("postgres://mmuser:*****@localhost:5432/loadtest?sslmode=disable", dsn.toString());
    }

    @Test
    void durationsAndDefaults() throws Exception {
        AuthDbDsn dsn = AuthDbDsn.parse("postgresql://u@db.internal/auth?pool_max_conn_lifetime=1h30m"
                + "&pool_max_conn_idle_time=90s&pool_health_check_period=500ms&pool_max_conn_lifetime_jitter=1.5m");
        assertEquals(List.of("db.internal:5432"), dsn.hosts());
        assertNull(dsn.password());
        assertEquals(Duration.ofMinutes(90), dsn.pool().maxConnLifetime());
        assertEquals(Duration.ofSeconds(90), dsn.pool().maxConnIdleTime());
        assertEquals(Duration.ofMillis(500), dsn.pool().healthCheckPeriod());
        assertEquals(Duration.ofSeconds(90), dsn.pool().maxConnLifetimeJitter());
        assertEquals(4, dsn.pool().maxConns());
        assertEquals(0, dsn.pool().minConns());
        assertEquals("postgresql://u@db.internal:5432/auth", dsn.toString());
    }

    @Test
    void percentDecodesUserAndPasswordButMasksThem() throws Exception {
        AuthDbDsn dsn = AuthDbDsn.parse("postgres://us%40er:p%40ss%3Aw%2Fo+rd@[::1]:6543/my%20db"
                + "?application_name=perseus+proxy&sslpassword=keypass&target_session_attrs=read-write");
        assertEquals("us@er", dsn.user());
        assertEquals("p@ss:w/o+rd", dsn.password());
        assertEquals(List.of("[::1]:6543"), dsn.hosts());
        assertEquals("my db", dsn.database());
        assertEquals(Map.of("ApplicationName", "perseus proxy", "sslpassword", "keypass",
                "targetServerType", "primary"), dsn.parameters());
        assertFalse(dsn.toString().contains("p@ss") || dsn.toString().contains("keypass"), dsn.toString());
        assertFalse(dsn.jdbcUrl().contains("keypass") || dsn.jdbcUrl().contains("p@ss"), dsn.jdbcUrl());
    }

    @Test
    void errorsNameThePartButNeverQuoteTheDsn() {
        assertError("mysql://u:topsecret@h/db", "must be a URL like postgres://");
        assertError("host=h user=u password=topsecret", "must be a URL like postgres://");
        assertError("postgres://u:top%zzsecret@h/db", "invalid %-escape in its password");
        assertError("postgres://u:topsecret@h:99999/db", "invalid port");
        assertError("postgres://u:topsecret@/db", "has no host");
        assertError("postgres://:topsecret@h/db", "has no user name");
        assertError("postgres://u:topsecret@h/db?pool_max_conns=0", "pool_max_conns must be a whole number of at least 1");
        assertError("postgres://u:topsecret@h/db?pool_min_conns=9", "pool_min_conns (9) above pool_max_conns (4)");
        assertError("postgres://u:topsecret@h/db?pool_max_conn_lifetime=forever",
                "pool_max_conn_lifetime must be a Go duration");
        assertError("postgres://u:topsecret@h/db?pool_max_conn_idle_time=-5m", "must be a Go duration");
    }

    @Test
    void goDurations() throws Exception {
        assertEquals(Duration.ZERO, GoDuration.parse("0", "x"));
        assertEquals(Duration.ofHours(1).plusMinutes(30), GoDuration.parse("1h30m", "x"));
        assertEquals(Duration.ofMillis(1500), GoDuration.parse("1.5s", "x"));
        assertEquals(Duration.ofNanos(2_300), GoDuration.parse("2us300ns", "x"));
        assertEquals(Duration.ofNanos(1_000), GoDuration.parse("1µs", "x"));
        assertEquals(Duration.ofMillis(500), GoDuration.parse(".5s", "x"));
        for (String bad : new String[] {"", "1", "1d", "h", "1h 30m", "-1s", "1.2.3s"}) {
            assertThrows(ConfigException.class, () -> GoDuration.parse(bad, "x"), bad);
        }
    }

    @Test
    void errorsNameTheGivenSourceForTools() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> AuthDbDsn.parse("postgres://u:topsecret@h:0/db", "-auth_dsn"));
        assertTrue(e.getMessage().startsWith("-auth_dsn has an invalid port"), e.getMessage());
        assertFalse(e.getMessage().contains("topsecret"), e.getMessage());
    }

    @Test
    void connectionPropertiesCarryTheSecretsTheUrlLeavesOut() throws Exception {
        AuthDbDsn dsn = AuthDbDsn.parse("postgres://perseus:s3cret@h/auth?sslpassword=keypass&sslmode=require");
        assertEquals("perseus", dsn.connectionProperties().getProperty("user"));
        assertEquals("s3cret", dsn.connectionProperties().getProperty("password"));
        assertEquals("keypass", dsn.connectionProperties().getProperty("sslpassword"));
        assertEquals("jdbc:postgresql://h:5432/auth?sslmode=require", dsn.jdbcUrl());
        assertNull(AuthDbDsn.parse("postgres://u@h/db").connectionProperties().getProperty("password"));
    }

    private static void assertError(String dsn, String expected) {
        ConfigException e = assertThrows(ConfigException.class, () -> AuthDbDsn.parse(dsn));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("topsecret"), e.getMessage());
        assertTrue(e.getMessage().contains("AuthDBSettings.AuthDBDSN"), e.getMessage());
    }
}
