package com.perseusproxy.server.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.auth.ScramVerifier;
import com.perseusproxy.server.PerseusService;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With {@code ClientSettings.UnknownUserAuth = scram-sha-256}, a login that matches no row (an unknown tenant, or
 * another tenant's user) is challenged exactly like a tenant whose row holds a SCRAM verifier: AuthenticationSASL
 * with the same mechanisms, a server-first-message with a salt of the same length and the same iteration count, the
 * same salt at every attempt for one name, and at the end the same 28P01 message, in about the same time.
 */
class UnknownUserScramTest {

    private static final String SCHEMA = "mock_scram_tenant";
    private static final String USER = "mona";
    private static final String PASSWORD = "mona-scram-secret-9";

    private static final String ADMIN = "scram_admin";
    private static final String ADMIN_PASSWORD = "scram-admin-pw-4";

    private static PerseusService proxy;

    @BeforeAll
    static void start() {
        TestPostgres pg = Fixtures.postgres();
        String verifier = ScramVerifier.create(PASSWORD, ScramVerifier.DEFAULT_ITERATIONS, null).encode();
        pg.execute(TestPostgres.APP_DB, "create schema if not exists " + SCHEMA + " authorization app_owner");
        pg.execute(TestPostgres.AUTH_DB, "delete from perseus_auth where source_schema = '" + SCHEMA + "'",
                "insert into perseus_auth (source_db, source_schema, source_user, source_pass_hashed, dest_host,"
                        + " dest_db, dest_pass_enc, dest_user) select source_db, '" + SCHEMA + "', '" + USER + "', '"
                        + verifier + "', dest_host, dest_db, dest_pass_enc, dest_user from perseus_auth"
                        + " where source_schema = 'tenant_a'");
        // The throttle is off: the timing comparison makes a dozen failed logins from one address.
        String adminVerifier = ScramVerifier.create(ADMIN_PASSWORD, ScramVerifier.DEFAULT_ITERATIONS, null).encode();
        proxy = OpsProxy.start(OpsProxy.config("127.0.0.1:0", OpsProxy.authDsn(), 2, "",
                ", \"ClientSettings\": { \"UnknownUserAuth\": \"scram-sha-256\", \"LoginThrottleSourceBurst\": 0,"
                        + " \"LoginThrottleTenantBurst\": 0 }, \"AdminSettings\": { \"AdminUsers\": { \"" + ADMIN
                        + "\": \"" + adminVerifier + "\" } }"));
    }

    @AfterAll
    static void stop() {
        Fixtures.postgres().execute(TestPostgres.AUTH_DB,
                "delete from perseus_auth where source_schema = '" + SCHEMA + "'");
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Target target(String schema, String user, String password) {
        return new Target("127.0.0.1", proxy.port(), TestPostgres.APP_DB, user, password, schema);
    }

    @Test
    void unknownLoginsAreChallengedLikeAScramTenant() {
        Challenge real = challenge(target(SCHEMA, USER, "x"));
        Challenge unknownTenant = challenge(target("no_such_tenant", USER, "x"));
        Challenge wrongUser = challenge(target(SCHEMA, "eve", "x"));
        for (Challenge c : List.of(unknownTenant, wrongUser)) {
            assertEquals(real.saslRequest(), c.saslRequest(), "AuthenticationSASL with the same mechanisms");
            assertEquals(real.salt().length, c.salt().length, "a salt of the same length");
            assertEquals(real.iterations(), c.iterations(), "the same iteration count");
            assertEquals(real.fieldNames(), c.fieldNames(), "the same server-first-message fields");
        }
        assertEquals(List.of(10), real.saslRequest().subList(0, 1));
        Challenge again = challenge(target("no_such_tenant", USER, "x"));
        assertEquals(Base64.getEncoder().encodeToString(unknownTenant.salt()),
                Base64.getEncoder().encodeToString(again.salt()), "the same salt at every attempt, as a real row's");
        assertNotEquals(Base64.getEncoder().encodeToString(unknownTenant.salt()),
                Base64.getEncoder().encodeToString(wrongUser.salt()), "another name, another salt");
        assertEquals(Base64.getEncoder().encodeToString(real.salt()),
                Base64.getEncoder().encodeToString(challenge(target(SCHEMA, USER, "y")).salt()));
    }

    @Test
    void unknownAndWrongPasswordEndAlikeInMessageAndTime() {
        List<Long> unknownMillis = new ArrayList<>();
        List<Long> wrongPasswordMillis = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            // Interleaved, so both see the same machine load.
            unknownMillis.add(failedLogin(target("no_such_tenant", "nobody", "guess-" + i), "nobody"));
            wrongPasswordMillis.add(failedLogin(target(SCHEMA, USER, "guess-" + i), USER));
        }
        long unknown = median(unknownMillis);
        long wrong = median(wrongPasswordMillis);
        // Both are HMACs on the proxy's side and one PBKDF2 on the client's; a scrypt run (what a cleartext
        // unknown login costs) would add tens of milliseconds to one side only, and more than doubles it. The margin
        // grows with the machine's load (both medians do), never to what a scrypt run adds.
        assertTrue(Math.abs(unknown - wrong) <= Math.max(25, Math.min(unknown, wrong) / 2),
                "median failed login: unknown " + unknown + " ms, wrong password "
                + wrong + " ms (" + unknownMillis + " / " + wrongPasswordMillis + ")");
        try (PgWire wire = PgWire.open(target(SCHEMA, USER, PASSWORD))) {
            assertEquals(List.of(10, 11, 12, 0), wire.login(target(SCHEMA, USER, PASSWORD)).authRequests(),
                    "the tenant itself still logs in");
        }
    }

    @Test
    void consoleUsersThatAreNotListedAreChallengedLikeTheScramOnes() {
        Challenge admin = challenge(target("x", ADMIN, ADMIN_PASSWORD).withDatabase("pgbouncer"));
        Challenge stranger = challenge(target("x", "mallory", "x").withDatabase("pgbouncer"));
        assertEquals(admin.saslRequest(), stranger.saslRequest());
        assertEquals(admin.salt().length, stranger.salt().length);
        assertEquals(admin.iterations(), stranger.iterations());
        assertEquals(Base64.getEncoder().encodeToString(stranger.salt()), Base64.getEncoder().encodeToString(
                challenge(target("x", "mallory", "x").withDatabase("pgbouncer")).salt()));
        Target wrong = target("x", "mallory", "guess").withDatabase("pgbouncer");
        try (PgWire wire = PgWire.open(wrong)) {
            PgWire.ServerError error = assertThrows(PgWire.ServerError.class, () -> wire.login(wrong));
            assertEquals("28P01", error.sqlState());
            assertEquals("password authentication failed for user \"mallory\" (SQLSTATE 28P01)", error.getMessage());
        }
        Target good = target("x", ADMIN, ADMIN_PASSWORD).withDatabase("pgbouncer");
        try (PgWire wire = PgWire.open(good)) {
            assertEquals(List.of(10, 11, 12, 0), wire.login(good).authRequests());
        }
    }

    /** @return how long the failed login took, in milliseconds */
    private static long failedLogin(Target t, String user) {
        long started = System.nanoTime();
        try (PgWire wire = PgWire.open(t)) {
            PgWire.ServerError error = assertThrows(PgWire.ServerError.class, () -> wire.login(t));
            assertEquals("28P01", error.sqlState());
            assertEquals("password authentication failed for user \"" + user + "\" (SQLSTATE 28P01)",
                    error.getMessage());
        }
        return (System.nanoTime() - started) / 1_000_000;
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.get(sorted.size() / 2);
    }

    /**
     * The first server message and the server-first-message of a SCRAM exchange.
     *
     * @param saslRequest the authentication request code, then the mechanisms offered (as their hash codes)
     */
    private record Challenge(List<Integer> saslRequest, byte[] salt, int iterations, List<String> fieldNames) {
    }

    private static Challenge challenge(Target t) {
        try (PgWire wire = PgWire.open(t)) {
            wire.send(PgWire.startupPacket(PgWire.PROTOCOL_3_0, PgWire.startupParameters(t)));
            PgWire.Message first = wire.read();
            assertEquals('R', first.type(), String.valueOf(first));
            List<Integer> request = new ArrayList<>(List.of(first.int32(0)));
            for (String mechanism : new String(first.body(), 4, first.body().length - 4, StandardCharsets.UTF_8)
                    .split("\0")) {
                if (!mechanism.isEmpty()) {
                    request.add(mechanism.hashCode());
                }
            }
            assertEquals(10, request.get(0), "AuthenticationSASL for " + t.user() + "/" + t.schema());
            byte[] clientFirst = "n,,n=,r=fixedclientnonce0123".getBytes(StandardCharsets.UTF_8);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(PgWire.cstring("SCRAM-SHA-256"));
            body.writeBytes(ByteBuffer.allocate(4).putInt(clientFirst.length).array());
            body.writeBytes(clientFirst);
            wire.send(PgWire.message('p', body.toByteArray()));
            PgWire.Message serverFirst = wire.read();
            assertEquals('R', serverFirst.type(), String.valueOf(serverFirst));
            assertEquals(11, serverFirst.int32(0));
            String text = new String(serverFirst.body(), 4, serverFirst.body().length - 4, StandardCharsets.UTF_8);
            byte[] salt = null;
            int iterations = 0;
            List<String> names = new ArrayList<>();
            for (String field : text.split(",")) {
                names.add(field.substring(0, 2));
                if (field.startsWith("s=")) {
                    salt = Base64.getDecoder().decode(field.substring(2));
                } else if (field.startsWith("i=")) {
                    iterations = Integer.parseInt(field.substring(2));
                }
            }
            assertTrue(text.startsWith("r=fixedclientnonce0123"), text);
            return new Challenge(request, salt, iterations, names);
        }
    }
}
