package com.perseusproxy.core.auth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.tenant.TenantRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoginMethodsTest {

    private static final ScramVerifier OLD = ScramVerifier.create("old-pw", 4096, null);
    private static final ScramVerifier NEXT = ScramVerifier.create("next-pw", 4096, OLD.salt());
    private static final ScramVerifier OTHER_SALT = ScramVerifier.create("other-pw", 4096, null);

    private static TenantRecord row(String hashes) {
        return new TenantRecord(7, "appdb", "ws1", "alice", hashes, "db:5432", "appdb", "enc", "app");
    }

    private static LoginRequest login(String schema, String user) {
        return new LoginRequest("appdb", schema, user, null);
    }

    @Test
    void aScramRowOffersTheVerifiersSharingTheFirstSalt() {
        LoginMethods methods = new LoginMethods(UnknownUserAuth.CLEARTEXT);
        String hashes = OLD.encode() + "," + OTHER_SALT.encode() + "," + NEXT.encode() + "," + EasyScrypt.dummyHash();
        LoginMethod method = methods.choose(login("ws1", "alice"), row(hashes));
        assertEquals(List.of(OLD, NEXT), method.verifiers(), "the other salt cannot be offered in one exchange");
        assertFalse(methods.choose(login("ws1", "alice"), row(EasyScrypt.dummyHash())).scram(),
                "easy-scrypt only: cleartext");
    }

    @Test
    void unknownLoginsGetTheConfiguredMethod() {
        assertFalse(new LoginMethods(UnknownUserAuth.CLEARTEXT).choose(login("nope", "bob"), null).scram());
        LoginMethods scram = new LoginMethods(UnknownUserAuth.SCRAM_SHA_256);
        LoginMethod unknown = scram.choose(login("nope", "bob"), null);
        LoginMethod again = scram.choose(login("nope", "bob"), null);
        LoginMethod wrongUser = scram.choose(login("ws1", "mallory"), row(OLD.encode()));
        assertTrue(unknown.scram());
        assertEquals(1, unknown.verifiers().size());
        ScramVerifier mock = unknown.verifiers().get(0);
        assertEquals(16, mock.salt().length);
        assertEquals(ScramVerifier.DEFAULT_ITERATIONS, mock.iterations());
        assertArrayEquals(mock.salt(), again.verifiers().get(0).salt(), "the same salt at every attempt");
        assertNotEquals(List.of(OLD), wrongUser.verifiers(), "another's row is not offered to a wrong user");
        assertFalse(java.util.Arrays.equals(mock.salt(), wrongUser.verifiers().get(0).salt()));
        assertFalse(java.util.Arrays.equals(mock.salt(), new LoginMethods(UnknownUserAuth.SCRAM_SHA_256)
                .choose(login("nope", "bob"), null).verifiers().get(0).salt()), "the salt depends on a process secret");
        assertEquals(UnknownUserAuth.SCRAM_SHA_256, UnknownUserAuth.parse(" SCRAM-SHA-256 "));
        assertEquals(null, UnknownUserAuth.parse("md5"));
    }
}
