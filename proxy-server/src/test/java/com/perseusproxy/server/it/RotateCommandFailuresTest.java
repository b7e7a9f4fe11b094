package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.auth.EasyScrypt;
import com.perseusproxy.tools.PerseusTools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code perseus-tools rotate} failures name the step that failed and the state the role and the rows are left in,
 * against the real auth database and server.
 */
class RotateCommandFailuresTest {

    static final String PREFIX = "rot_rtf_";
    static final String ROLE = "rot_rtf_odd";

    @Test
    void eachFailureSaysWhichStepAndWhatStateItLeft() throws Exception {
        TestPostgres pg = Fixtures.postgres();
        RotationBed.createRole(ROLE, "rtf-1");
        RotationBed.createRole("rot_rtf_weak", "rtf-weak-1");
        String destHost = "rtf.invalid:" + pg.port();
        RotationBed.upsertRow(PREFIX + "0", "tenant_a", "rtf_user", EasyScrypt.hash("x"), ROLE, "rtf-1");
        RotationBed.setDestHost(PREFIX, destHost);
        String before = rowCiphertext();
        Path config = Files.createTempFile("perseus-rotate-fail", ".json");
        config.toFile().deleteOnExit();
        Files.writeString(config, """
                { "AuthDBSettings": { "AuthDBDSN": "postgres://postgres@%s:%d/%s?sslmode=disable" },
                  "LocalKeySettings": { "KeyFile": "%s" }, "MetricsAddress": "127.0.0.1:1" }"""
                .formatted(pg.host(), pg.port(), TestPostgres.AUTH_DB, Fixtures.localKeyFile()));
        String goodAdmin = "postgres://postgres@" + pg.host() + ":" + pg.port() + "/postgres?sslmode=disable";
        // A role without CREATEROLE may not change another role's password: the server refuses step 3.
        String weakAdmin = "postgres://rot_rtf_weak:rtf-weak-1@" + pg.host() + ":" + pg.port() + "/postgres?sslmode=disable";
        try {
            Run none = rotate(config, "nowhere:5432", goodAdmin, "-order", "row-first");
            assertEquals(1, none.status, none.err);
            assertTrue(none.err.contains("step 1/4") && none.err.contains("Nothing was changed"), none.err);

            Run roleFirst = rotate(config, destHost, weakAdmin, "-order", "role-first");
            assertEquals(1, roleFirst.status, roleFirst.err);
            assertTrue(roleFirst.err.contains("step 3/4 (ALTER ROLE") && roleFirst.err.contains("nothing was changed"),
                    roleFirst.err);
            assertEquals(before, rowCiphertext(), "the rows are untouched");

            Run rowFirst = rotate(config, destHost, weakAdmin, "-order", "row-first");
            assertEquals(1, rowFirst.status, rowFirst.err);
            assertTrue(rowFirst.err.contains("step 3/4 (ALTER ROLE") && rowFirst.err.contains("rows already hold the"
                    + " new credentials") && rowFirst.err.contains("keep logging in with the old password"),
                    rowFirst.err);
            assertTrue(!before.equals(rowCiphertext()), "row-first changed the rows before ALTER ROLE failed");

            Run noReplica = rotate(config, destHost, goodAdmin, "-timeout", "3");
            assertEquals(1, noReplica.status, noReplica.err);
            assertTrue(noReplica.err.contains("step 4/4") && noReplica.err.contains("hold the new credentials"),
                    noReplica.err);
            assertTrue(!noReplica.err.contains("rtf-1") && !rowFirst.err.contains("rtf-1"), "no password printed");

            Run usage = rotate(config, destHost, goodAdmin, "-switch_account", "-order", "row-first");
            assertEquals(2, usage.status, usage.err);
            assertTrue(usage.err.contains("role-first"), usage.err);
        } finally {
            RotationBed.deleteRows(PREFIX);
        }
    }

    private record Run(int status, String err) {
    }

    private static Run rotate(Path config, String destHost, String admin, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("rotate", "-config", config.toString(), "-dest_host",
                destHost, "-dest_db", TestPostgres.APP_DB, "-admin_dsn", admin));
        args.addAll(List.of(extra));
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = PerseusTools.run(args.toArray(String[]::new), new ByteArrayInputStream(new byte[0]),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), Map.of());
        return new Run(status, err.toString(StandardCharsets.UTF_8));
    }

    private static String rowCiphertext() {
        return (String) Fixtures.postgres().queryValue(TestPostgres.AUTH_DB, "SELECT dest_pass_enc FROM perseus_auth"
                + " WHERE source_db = '" + PREFIX + "0'");
    }
}
