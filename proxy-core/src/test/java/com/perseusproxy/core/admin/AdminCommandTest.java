package com.perseusproxy.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.perseusproxy.core.protocol.PgException;
import org.junit.jupiter.api.Test;

/** The console's statement parser: PgBouncer's grammar, case-insensitive, and clear errors for anything else. */
class AdminCommandTest {

    @Test
    void parsesCommandsAsPgBouncerDoes() {
        assertEquals(new AdminCommand("SHOW", "POOLS"), AdminCommand.parse("show pools;"));
        assertEquals(new AdminCommand("SHOW", "STATS_TOTALS"), AdminCommand.parse("  SHOW Stats_Totals  "));
        assertEquals(new AdminCommand("PAUSE", null), AdminCommand.parse("PAUSE"));
        assertEquals(new AdminCommand("PAUSE", "appdb"), AdminCommand.parse("pause appdb;"));
        assertEquals(new AdminCommand("RESUME", "My \"db\""), AdminCommand.parse("RESUME \"My \"\"db\"\"\""));
        assertEquals(new AdminCommand("KILL_CLIENT", "0x1f"), AdminCommand.parse("kill_client 0x1f"));
        assertEquals(new AdminCommand("SHUTDOWN", "WAIT_FOR_CLIENTS"), AdminCommand.parse("shutdown wait_for_clients"));
        assertEquals(new AdminCommand("RELOAD", null), AdminCommand.parse("reload;"));
    }

    @Test
    void anythingElseIsASyntaxErrorThatSaysWhatWorks() {
        for (String sql : new String[] {"select 1", "SHOW FOO", "SHOW", "RELOAD now", "KILL_CLIENT", "begin",
                "SHUTDOWN NOW", "SHOW POOLS; SHOW CLIENTS"}) {
            PgException e = assertThrows(PgException.class, () -> AdminCommand.parse(sql), sql);
            assertEquals("42601", e.sqlState(), sql);
            assertEquals(false, e.fatal(), "the console session survives a bad statement");
        }
        PgException e = assertThrows(PgException.class, () -> AdminCommand.parse("select\u0007 secret"));
        assertEquals(false, e.getMessage().contains("\u0007"), "control characters are not echoed");
    }
}
