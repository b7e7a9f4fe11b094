package com.perseusproxy.server.config;

import com.perseusproxy.core.config.AuthDbDsn;
import com.zaxxer.hikari.HikariConfig;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class AuthDbSettingsTest {

    @Test
    void hikariConfigGetsThePasswordOutsideTheUrl() throws Exception {
        AuthDbSettings settings = new AuthDbSettings(AuthDbDsn.parse(
                "postgres://perseus:s3cret@h1:5432,h2:5433/auth?sslmode=require&pool_max_conns=6&pool_min_conns=1"
                        + "&pool_max_conn_lifetime=5s&pool_health_check_period=0"), 3);
        HikariConfig hikari = settings.toHikariConfig();
        assertEquals("jdbc:postgresql://h1:5432,h2:5433/auth?sslmode=require", hikari.getJdbcUrl());
        assertEquals("perseus", hikari.getUsername());
        assertEquals("s3cret", hikari.getPassword());
        assertEquals(6, hikari.getMaximumPoolSize());
        assertEquals(1, hikari.getMinimumIdle());
        assertEquals(30_000, hikari.getMaxLifetime(), "raised to HikariCP's minimum");
        assertEquals(0, hikari.getKeepaliveTime(), "0 = health checks off");
        assertEquals(3_000, hikari.getConnectionTimeout());
        assertEquals("3", hikari.getDataSourceProperties().getProperty("connectTimeout"));
        assertEquals(-1, hikari.getInitializationFailTimeout());
        assertFalse(settings.toString().contains("s3cret"), settings.toString());
    }

}
