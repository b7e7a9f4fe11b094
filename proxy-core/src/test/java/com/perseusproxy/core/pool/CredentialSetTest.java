package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendCredentials;
import java.util.List;
import org.junit.jupiter.api.Test;

class CredentialSetTest {

    static final BackendCredentials OLD = new BackendCredentials("app", "old");
    static final BackendCredentials NEW = new BackendCredentials("app", "new");
    static final BackendCredentials OTHER = new BackendCredentials("app", "other");

    @Test
    void beforeAnyLoginTheLatestIsTheOnlyCandidate() {
        CredentialSet set = new CredentialSet(OLD);
        assertEquals(List.of(OLD), set.candidates());
        assertEquals(OLD, set.current());
    }

    @Test
    void rowChangedFirstTriesWhatWorkedThenTheNewRow() {
        CredentialSet set = new CredentialSet(OLD);
        set.worked(OLD);
        assertTrue(set.offerLatest(NEW));
        assertEquals(List.of(OLD, NEW), set.candidates());
        assertEquals(OLD, set.current(), "connections with the old password are not stale until the new one works");
        set.worked(NEW);
        assertEquals(List.of(NEW, OLD), set.candidates());
        assertEquals(NEW, set.current());
    }

    @Test
    void reloadedValuesComeAfterTheKnownOnesWithoutDuplicates() {
        CredentialSet set = new CredentialSet(OLD);
        set.worked(OLD);
        set.offerReloaded(List.of(OLD, OTHER));
        assertEquals(List.of(OLD, OTHER), set.candidates());
        assertFalse(set.offerLatest(OLD));
    }
}
