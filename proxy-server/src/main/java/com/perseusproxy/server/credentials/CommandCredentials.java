package com.perseusproxy.server.credentials;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.rotation.ExternalCredentials;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code CredentialCommands} of the config: per backend ({@code dest_host/dest_db}, as written in perseus_auth), a
 * command whose output gives the credentials. Output is cached until shortly before its {@code expires_at}, when the
 * command runs again in the background and {@code onChange} lets the routes pick the new credentials up; a refused
 * login re-runs it at once.
 */
public final class CommandCredentials implements ExternalCredentials {

    private static final Logger log = LoggerFactory.getLogger(CommandCredentials.class);
    /** Re-run this long before expiry, or a third of the lifetime if shorter, so no login ever uses expired ones. */
    private static final Duration RENEW_AHEAD = Duration.ofMinutes(5);
    /** A command that keeps printing an expiry in the past must not be re-run in a loop. */
    private static final Duration MIN_RERUN = Duration.ofSeconds(5);

    private final Map<Destination, Source> sources = new LinkedHashMap<>();
    private final ScheduledExecutorService scheduler;
    private final Runnable onChange;

    /**
     * @param commands  keyed by {@code dest_host/dest_db}
     * @param scheduler runs background renewals
     * @param onChange  called after a renewal issued different credentials
     */
    public CommandCredentials(Map<String, CredentialCommand> commands, ScheduledExecutorService scheduler,
                              Runnable onChange) {
        this.scheduler = scheduler;
        this.onChange = onChange;
        commands.forEach((key, command) -> sources.put(keyOf(key), new Source(key, command)));
    }

    /** {@code host[:port]/database} as a destination without user. */
    static Destination keyOf(String key) {
        int slash = key.lastIndexOf('/');
        if (slash <= 0 || slash == key.length() - 1) {
            throw new IllegalArgumentException("CredentialCommands entry \"" + key + "\" must be named dest_host/dest_db,"
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
        return source(host, port, database).fetch("the server refused the current credentials");
    }

    /** One backend's command and what it last printed. */
    private final class Source {
        private final String name;
        private final CredentialCommand command;
        private CredentialCommand.Issued issued;
        private Instant renewAt;
        private Instant lastRun = Instant.MIN;
        private ScheduledFuture<?> renewal;

        Source(String name, CredentialCommand command) {
            this.name = name;
            this.command = command;
        }

        synchronized BackendCredentials current() {
            if (issued == null || (renewAt != null && !Instant.now().isBefore(renewAt))) {
                return fetch(issued == null ? "first use" : "they expire soon");
            }
            return issued.credentials();
        }

        synchronized BackendCredentials fetch(String why) {
            Instant now = Instant.now();
            if (issued != null && Duration.between(lastRun, now).compareTo(MIN_RERUN) < 0) {
                return issued.credentials(); // just ran: another refused login must not run it again at once
            }
            lastRun = now;
            CredentialCommand.Issued fresh;
            try {
                fresh = command.run();
            } catch (CredentialCommandException e) {
                if (issued != null) {
                    log.warn("CredentialCommands[\"{}\"]: {}; keeping the previous credentials {}", name,
                            e.getMessage(), issued.credentials());
                    return issued.credentials();
                }
                throw new IllegalStateException("CredentialCommands[\"" + name + "\"]: " + e.getMessage());
            }
            boolean changed = issued == null || !issued.credentials().equals(fresh.credentials());
            log.info("CredentialCommands[\"{}\"] ran ({}): credentials {}{}", name, why, fresh.credentials(),
                    fresh.expiresAt() == null ? "" : ", expiring at " + fresh.expiresAt());
            BackendCredentials previous = issued == null ? null : issued.credentials();
            issued = fresh;
            scheduleRenewal(now);
            if (changed && previous != null) {
                onChange.run();
            }
            return fresh.credentials();
        }

        private void scheduleRenewal(Instant now) {
            if (renewal != null) {
                renewal.cancel(false);
            }
            if (issued.expiresAt() == null) {
                renewAt = null;
                return;
            }
            Duration life = Duration.between(now, issued.expiresAt());
            Duration ahead = life.dividedBy(3).compareTo(RENEW_AHEAD) < 0 ? life.dividedBy(3) : RENEW_AHEAD;
            Duration wait = life.minus(ahead);
            if (wait.compareTo(MIN_RERUN) < 0) {
                wait = MIN_RERUN;
            }
            renewAt = now.plus(wait);
            renewal = scheduler.schedule(() -> {
                try {
                    fetch("they expire soon");
                } catch (IllegalStateException e) {
                    log.warn("{}", e.getMessage());
                }
            }, wait.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
