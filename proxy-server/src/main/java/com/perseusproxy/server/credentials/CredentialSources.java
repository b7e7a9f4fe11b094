package com.perseusproxy.server.credentials;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.rotation.ExternalCredentials;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code CredentialSources} of the config (and their older spelling {@code CredentialCommands}): per backend
 * ({@code dest_host/dest_db}, as written in perseus_auth), a {@link CredentialProvider} whose credentials replace the
 * rows' {@code dest_user}/{@code dest_pass_enc}. What a provider gave is cached; it is fetched again in the background
 * before it expires (a third of its lifetime ahead, at most 5 minutes ahead), every {@code refreshEvery}, on SIGHUP
 * ({@link #refreshAll}), and at once when the server refused it ({@link #renew}, at most once per 5 s, which the
 * pool's login backoff spaces further). Different credentials trigger {@code onChange}, which re-reads the routes in
 * use: a new password reaches the pools as a password change, a new user as an account switch.
 */
public final class CredentialSources implements ExternalCredentials {

    private static final Logger log = LoggerFactory.getLogger(CredentialSources.class);
    /** Renew this long before expiry, or a third of the lifetime if shorter, so no login ever uses expired ones. */
    static final Duration RENEW_AHEAD = Duration.ofMinutes(5);
    /** A source that keeps giving an expiry in the past, or refused logins, must not be fetched in a loop. */
    static final Duration MIN_REFETCH = Duration.ofSeconds(5);

    private final Map<Destination, Source> sources = new LinkedHashMap<>();
    private final ScheduledExecutorService scheduler;
    private final Runnable onChange;
    private final Clock clock;

    /**
     * @param providers keyed by {@code dest_host/dest_db}
     * @param scheduler runs background renewals (never an event loop: fetching blocks)
     * @param onChange  called after a fetch gave different credentials
     */
    public CredentialSources(Map<String, ? extends CredentialProvider> providers, ScheduledExecutorService scheduler,
                             Runnable onChange) {
        this(providers, scheduler, onChange, Clock.systemUTC());
    }

    /** @param clock decides renewal times (tests control it) */
    public CredentialSources(Map<String, ? extends CredentialProvider> providers, ScheduledExecutorService scheduler,
                             Runnable onChange, Clock clock) {
        this.scheduler = scheduler;
        this.onChange = onChange;
        this.clock = clock;
        providers.forEach((key, provider) -> sources.put(keyOf(key), new Source(key, provider)));
    }

    /** {@code host[:port]/database} as a destination without user. */
    static Destination keyOf(String key) {
        int slash = key.lastIndexOf('/');
        if (slash <= 0 || slash == key.length() - 1) {
            throw new IllegalArgumentException("CredentialSources entry \"" + key + "\" must be named dest_host/dest_db,"
                    + " e.g. db1.internal:5432/mattermost");
        }
        Destination d = Destination.of(key.substring(0, slash), key.substring(slash + 1), "");
        return new Destination(d.host(), d.port(), d.database(), "");
    }

    private Source source(String host, int port, String database) {
        return sources.get(new Destination(host, port, database, ""));
    }

    @Override
    public boolean covers(String host, int port, String database) {
        return source(host, port, database) != null;
    }

    @Override
    public BackendCredentials current(String host, int port, String database) {
        return source(host, port, database).current();
    }

    @Override
    public BackendCredentials renew(String host, int port, String database) {
        return source(host, port, database).fetch("the server refused the current credentials", true);
    }

    @Override
    public java.util.List<BackendCredentials> renewCandidates(String host, int port, String database) {
        Source source = source(host, port, database);
        java.util.List<BackendCredentials> candidates = new java.util.ArrayList<>();
        candidates.add(source.fetch("the server refused the current credentials", true));
        for (BackendCredentials alternative : source.alternatives()) {
            if (!candidates.contains(alternative)) {
                candidates.add(alternative);
            }
        }
        return candidates;
    }

    /** The Kind serving this backend ({@code command}, ...), or null when its rows give the credentials. */
    public String kindOf(String host, int port, String database) {
        Source source = source(host, port, database);
        return source == null ? null : source.provider.kind();
    }

    /** SIGHUP: every source that was used is read again in the background. */
    public void refreshAll(String why) {
        for (Source source : sources.values()) {
            if (source.used()) {
                try {
                    scheduler.execute(() -> source.fetchInBackground(why));
                } catch (RejectedExecutionException e) {
                    return; // shutting down
                }
            }
        }
    }

    /** When the source of {@code key} will be fetched again by itself, for tests; null when not scheduled. */
    Instant nextFetch(String key) {
        return sources.get(keyOf(key)).nextFetch();
    }

    /** One backend's provider and what it last gave. */
    private final class Source {
        private final String name;
        private final CredentialProvider provider;
        private CredentialCommand.Issued issued;
        /** Past this, {@link #current} fetches before answering: the credentials are about to expire. */
        private Instant mustRenewAt;
        private Instant nextFetch;
        private Instant lastFetch = Instant.MIN;
        private ScheduledFuture<?> scheduled;

        Source(String name, CredentialProvider provider) {
            this.name = name;
            this.provider = provider;
        }

        private java.util.List<BackendCredentials> alternatives = java.util.List.of();
        private Instant alternativesRead = Instant.MIN;

        /** Read at most once per MIN_REFETCH, like renewals after refused logins. */
        synchronized java.util.List<BackendCredentials> alternatives() {
            Instant now = clock.instant();
            if (Duration.between(alternativesRead, now).compareTo(MIN_REFETCH) >= 0) {
                alternativesRead = now;
                alternatives = provider.alternatives();
                if (!alternatives.isEmpty()) {
                    log.info("CredentialSources[\"{}\"] ({}): also trying {} (about to become current)", name,
                            provider.describe(), alternatives);
                }
            }
            return alternatives;
        }

        synchronized boolean used() {
            return issued != null;
        }

        synchronized Instant nextFetch() {
            return nextFetch;
        }

        synchronized BackendCredentials current() {
            if (issued == null || (mustRenewAt != null && !clock.instant().isBefore(mustRenewAt))) {
                return fetch(issued == null ? "first use" : "they expire soon", false);
            }
            return issued.credentials();
        }

        void fetchInBackground(String why) {
            try {
                fetch(why, false);
            } catch (IllegalStateException e) {
                log.warn("{}", e.getMessage());
            }
        }

        /** @param refused after a refused login: at most once per MIN_REFETCH, however many logins were refused */
        synchronized BackendCredentials fetch(String why, boolean refused) {
            Instant now = clock.instant();
            if (refused && issued != null && Duration.between(lastFetch, now).compareTo(MIN_REFETCH) < 0) {
                return issued.credentials(); // just fetched: another refused login must not fetch again at once
            }
            lastFetch = now;
            CredentialCommand.Issued fresh;
            try {
                fresh = provider.fetch();
            } catch (CredentialFetchException e) {
                if (issued != null) {
                    log.warn("CredentialSources[\"{}\"] ({}): {}; keeping the previous credentials {}", name,
                            provider.describe(), e.getMessage(), issued.credentials());
                    // Retry soon if they expire, but not at every login: a failing source must not run in a loop.
                    Duration retry = mustRenewAt == null ? Duration.ZERO : MIN_REFETCH;
                    if (mustRenewAt != null) {
                        mustRenewAt = now.plus(MIN_REFETCH);
                    }
                    schedule(now, retry);
                    return issued.credentials();
                }
                throw new IllegalStateException("CredentialSources[\"" + name + "\"] (" + provider.describe() + "): "
                        + e.getMessage());
            }
            BackendCredentials previous = issued == null ? null : issued.credentials();
            boolean changed = previous != null && !previous.equals(fresh.credentials());
            if (previous == null || changed || fresh.expiresAt() != null) {
                log.info("CredentialSources[\"{}\"] ({}) {} ({}): credentials {}{}", name, provider.describe(),
                        provider.kind().equals("command") ? "ran" : "read", why, fresh.credentials(),
                        fresh.expiresAt() == null ? "" : ", expiring at " + fresh.expiresAt());
            } else {
                log.debug("CredentialSources[\"{}\"] ({}) read ({}): unchanged", name, provider.describe(), why);
            }
            issued = fresh;
            schedule(now, lifetimeWait(now));
            if (changed) {
                onChange.run();
            }
            return fresh.credentials();
        }

        /** How long until the credentials must be renewed, or ZERO when they do not expire; sets mustRenewAt. */
        private Duration lifetimeWait(Instant now) {
            if (issued.expiresAt() == null) {
                mustRenewAt = null;
                return Duration.ZERO;
            }
            Duration life = Duration.between(now, issued.expiresAt());
            Duration ahead = life.dividedBy(3).compareTo(RENEW_AHEAD) < 0 ? life.dividedBy(3) : RENEW_AHEAD;
            Duration wait = life.minus(ahead);
            if (wait.compareTo(MIN_REFETCH) < 0) {
                wait = MIN_REFETCH;
            }
            mustRenewAt = now.plus(wait);
            return wait;
        }

        /** The next background fetch: at expiry's renewal time or after refreshEvery, whichever comes first. */
        private void schedule(Instant now, Duration untilExpiryRenewal) {
            if (scheduled != null) {
                scheduled.cancel(false);
            }
            Duration wait = untilExpiryRenewal;
            Duration every = provider.refreshEvery();
            if (!every.isZero() && (wait.isZero() || every.compareTo(wait) < 0)) {
                wait = every;
            }
            if (wait.isZero()) {
                nextFetch = null;
                return;
            }
            nextFetch = now.plus(wait);
            String why = mustRenewAt != null && !nextFetch.isBefore(mustRenewAt) ? "they expire soon"
                    : "scheduled re-read";
            try {
                scheduled = scheduler.schedule(() -> fetchInBackground(why), wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                scheduled = null; // shutting down
            }
        }
    }
}
