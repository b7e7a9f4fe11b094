package com.perseusproxy.core.pool;

import com.perseusproxy.core.backend.BackendCredentials;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The credentials a pool may log in with, in the order it tries them: the last ones that worked first, then what
 * {@code perseus_auth} says now, then any other values its rows held when last re-read. This is what makes a backend
 * password change hitless in either order: while {@code ALTER ROLE} has not run yet the old password (last worked)
 * still logs in; once it has, the old one is refused and the new one from the row is tried next. Runs on the pool's
 * event loop only.
 */
final class CredentialSet {

    /** More than this many distinct values for one destination is a misconfiguration, not a rotation. */
    private static final int MAX_KNOWN = 4;

    private BackendCredentials lastWorked;
    private BackendCredentials latest;
    /** Values seen when the destination's rows were re-read, newest first; candidates after the two above. */
    private final List<BackendCredentials> others = new ArrayList<>();

    CredentialSet(BackendCredentials latest) {
        this.latest = latest;
    }

    /** What perseus_auth (a login, a refresh) says now. @return whether it differs from what was known */
    boolean offerLatest(BackendCredentials credentials) {
        if (credentials.equals(latest)) {
            return false;
        }
        if (latest != null) {
            remember(latest);
        }
        latest = credentials;
        others.remove(credentials);
        return true;
    }

    /** Values read afresh from the destination's rows; kept as further candidates. */
    void offerReloaded(Collection<BackendCredentials> values) {
        values.forEach(this::remember);
    }

    /** A login with these credentials succeeded: they go first from now on. */
    void worked(BackendCredentials credentials) {
        BackendCredentials previous = lastWorked;
        lastWorked = credentials;
        others.remove(credentials);
        if (previous != null) {
            remember(previous); // refused now, perhaps, but another tenant's row may still name it
        }
    }

    /**
     * The credentials new connections are expected to use: the last that worked, or, before any login succeeded, the
     * latest. Connections logged in with anything else are stale and retire when idle.
     */
    BackendCredentials current() {
        return lastWorked != null ? lastWorked : latest;
    }

    /** What perseus_auth (or a credential source) says now. */
    BackendCredentials latest() {
        return latest;
    }

    /** Distinct candidates in the order to try them. */
    List<BackendCredentials> candidates() {
        return candidates(false);
    }

    /** @param latestFirst probe the latest before the last that worked (see {@link CredentialProbe}) */
    List<BackendCredentials> candidates(boolean latestFirst) {
        List<BackendCredentials> ordered = new ArrayList<>(2 + others.size());
        if (latestFirst) {
            addDistinct(ordered, latest);
        }
        addDistinct(ordered, lastWorked);
        addDistinct(ordered, latest);
        others.forEach(c -> addDistinct(ordered, c));
        return ordered;
    }

    private void remember(BackendCredentials credentials) {
        if (credentials.equals(latest) || credentials.equals(lastWorked)) {
            return;
        }
        others.remove(credentials);
        others.add(0, credentials);
        while (others.size() > MAX_KNOWN) {
            others.remove(others.size() - 1);
        }
    }

    private static void addDistinct(List<BackendCredentials> list, BackendCredentials credentials) {
        if (credentials != null && !list.contains(credentials)) {
            list.add(credentials);
        }
    }
}
