package com.perseusproxy.server.config;

import com.perseusproxy.core.config.ConfigException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ListenAddressTest {

    @Test
    void listenAddresses() throws Exception {
        assertEquals(new ListenAddress(null, 5433), ListenAddress.parse(":5433", "k"));
        assertEquals(new ListenAddress("127.0.0.1", 6432), ListenAddress.parse("127.0.0.1:6432", "k"));
        assertEquals(new ListenAddress("::1", 5433), ListenAddress.parse("[::1]:5433", "k"));
        assertEquals("[::1]:5433", ListenAddress.parse("[::1]:5433", "k").toString());
        assertEquals(":5433", ListenAddress.parse(":5433", "k").toString());
        for (String bad : new String[] {"5433", "::1:5433", "host:x", "host:70000"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> ListenAddress.parse(bad, "ListenAddress"));
            assertTrue(e.getMessage().startsWith("ListenAddress"), e.getMessage());
        }
    }

}
