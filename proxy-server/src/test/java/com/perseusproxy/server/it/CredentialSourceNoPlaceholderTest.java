package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.server.PerseusService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * Issue 14 (3): a row served by a credential source needs no decryptable {@code dest_pass_enc} (empty is fine), and
 * {@code CredentialCommands} still works as the older spelling of a {@code CredentialSources} entry of Kind command.
 * The same empty row without a source is refused with a clear 08004.
 */
class CredentialSourceNoPlaceholderTest {

    static final String PREFIX = "rot_noph_";
    static final String ROLE = "rot_noph_cmd";

    @Test
    void anEmptyDestPassEncLogsInThroughItsSourceAndFailsClearlyWithoutOne() throws Exception {
        assumeTrue(Targets.viaProxy(), "credential sources are a proxy feature");
        String stamp = Long.toString(System.nanoTime(), 36);
        String backendPassword = "noph-" + stamp;
        String clientPassword = "client-noph-" + stamp;
        RotationBed.createRole(ROLE, backendPassword);
        Path creds = Files.createTempFile("perseus-noph", ".json");
        creds.toFile().deleteOnExit();
        Files.writeString(creds, "{\"user\": \"" + ROLE + "\", \"password\": \"" + backendPassword + "\"}");
        TestPostgres pg = Fixtures.postgres();
        String covered = "localhost:" + pg.port();
        for (String section : new String[] {"CredentialSources", "CredentialCommands"}) {
            String kind = section.equals("CredentialSources") ? "\"Kind\": \"command\", " : "";
            String sources = """
                    "%s": { "%s/%s": { %s"Command": ["cat", "%s"], "TimeoutSecs": 5 } },"""
                    .formatted(section, covered, TestPostgres.APP_DB, kind, creds);
            RotationBed.upsertRow(PREFIX + "a", Fixtures.TENANT_A.schema(), "noph_user",
                    EasyScrypt.hash(clientPassword), "ignored_by_the_source", "unused");
            RotationBed.setDestHost(PREFIX + "a", covered);
            RotationBed.upsertRow(PREFIX + "b", Fixtures.TENANT_A.schema(), "noph_user",
                    EasyScrypt.hash(clientPassword), ROLE, "unused");
            pg.execute(TestPostgres.AUTH_DB, "UPDATE perseus_auth SET dest_pass_enc = '' WHERE source_db LIKE '"
                    + PREFIX + "%'");
            try (PerseusService proxy = RotationBed.startProxy(2, 0, sources)) {
                Target served = new Target("127.0.0.1", proxy.port(), PREFIX + "a", "noph_user", clientPassword,
                        Fixtures.TENANT_A.schema());
                try (Connection c = served.connect(); Statement st = c.createStatement();
                     ResultSet rs = st.executeQuery("select current_user")) {
                    rs.next();
                    assertEquals(ROLE, rs.getString(1), section + ": the source's account serves the row");
                }
                // Same row, but its dest_host (127.0.0.1:port) has no source: 08004 that names what to fix.
                Target unserved = served.withDatabase(PREFIX + "b");
                SQLException e = assertThrows(SQLException.class, () -> unserved.connect().close());
                assertEquals("08004", e.getSQLState(), e.getMessage());
                assertTrue(e.getMessage().contains("dest_pass_enc is empty")
                        && e.getMessage().contains("CredentialSources"), e.getMessage());
            } finally {
                RotationBed.deleteRows(PREFIX);
            }
        }
    }
}
