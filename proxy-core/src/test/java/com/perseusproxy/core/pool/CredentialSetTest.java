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
    void aProbeTriesTheNewRowFirstAndTheOldRightAfter() {
        CredentialSet set = new CredentialSet(OLD);
        set.worked(OLD);
        set.offerLatest(NEW);
        assertEquals(List.of(NEW, OLD), set.candidates(true));
        assertEquals(List.of(OLD, NEW), set.candidates(false));
        assertEquals(NEW, set.latest());
    }

    @Test
    void aProbeIsRepeatedWithGrowingDelaysUntilTheNewCredentialsWork() {
        CredentialProbe probe = new CredentialProbe();
        long t = 0;
        assertFalse(probe.due(t));
        probe.newLatest(t);
        assertTrue(probe.due(t));
        probe.started();
        assertFalse(probe.due(t), "one probe at a time");
        probe.finished(false, t);
        assertFalse(probe.due(t + 999_000_000L));
        assertTrue(probe.due(t + 1_000_000_000L), "1 s after a refused probe");
        probe.started();
        probe.finished(false, t + 1_000_000_000L);
        assertFalse(probe.due(t + 2_999_000_000L));
        assertTrue(probe.due(t + 3_000_000_000L), "then 2 s");
        probe.started();
        probe.finished(true, t + 3_000_000_000L);
        assertFalse(probe.due(Long.MAX_VALUE / 2), "done once the new credentials worked");
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
