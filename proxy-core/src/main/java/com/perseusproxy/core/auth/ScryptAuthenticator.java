package com.perseusproxy.core.auth;

import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.secrets.SecretDecryptionException;
import com.perseusproxy.core.secrets.SecretDecryptor;
import com.perseusproxy.core.tenant.TenantDirectory;
import com.perseusproxy.core.tenant.TenantLookupException;
import com.perseusproxy.core.tenant.TenantRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Authenticates clients against {@code perseus_auth} (Perseus's scheme: cleartext password checked against an
 * easy-scrypt hash), then decrypts the tenant's backend password.
 * <pre>
 *   caller ──► lookup pool: find row ──► hash pool: scrypt verify ──► lookup pool: decrypt, build route ──► future
 * </pre>
 * Unknown tenant, wrong user and wrong password end with the same 28P01 error after one scrypt run each, so neither
 * the message nor the timing tells them apart. Both pools are bounded; a full queue fails the login at once with
 * 53300 rather than letting a reconnect storm exhaust memory; only then does the future complete on the caller's
 * thread. A caller that gives up may cancel the returned future: stages not yet started are then skipped.
 *
 * <p>A password recently proved for the same row and stored hash is found in the {@link VerifiedLoginCache} and
 * skips scrypt (the row is still looked up every time, since it may have changed). Only successes are cached, so a
 * first attempt, a wrong password and an unknown tenant all cost one scrypt run as before.
 *
 * <p>This class stages a login across the pools and builds the route. What it delegates: how the client is asked
 * for its password ({@link LoginMethods}, from the row {@link #prepare} reads) and the scrypt check itself
 * ({@link ScryptCheck}); a SCRAM proof is checked on the event loop ({@link ScramExchange}).
 */
public final class ScryptAuthenticator implements Authenticator, PasswordVerifier, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ScryptAuthenticator.class);

    private final TenantDirectory directory;
    private final SecretDecryptor decryptor;
    private final AuthLimits limits;
    private final ThreadPoolExecutor lookupPool;
    private final ThreadPoolExecutor hashPool;
    private final VerifiedLoginCache verified;
    private final AtomicLong hashChecks = new AtomicLong();
    /** Destinations whose credentials come from a credential source: their rows' dest_pass_enc is not decrypted. */
    private final Predicate<Destination> externallyServed;
    private final LoginMethods methods;

    /** With the default verified-login cache ({@link VerifiedLoginCache#defaults()}). */
    public ScryptAuthenticator(TenantDirectory directory, SecretDecryptor decryptor, AuthLimits limits) {
        this(directory, decryptor, limits, VerifiedLoginCache.defaults());
    }

    public ScryptAuthenticator(TenantDirectory directory, SecretDecryptor decryptor, AuthLimits limits,
                               VerifiedLoginCache verified) {
        this(directory, decryptor, limits, verified, d -> false);
    }

    /**
     * @param externallyServed destinations (host, port, database; user empty) served by a credential source: their
     *                         rows need no decryptable dest_pass_enc, and the route's credentials stay null for the
     *                         source to fill in
     */
    public ScryptAuthenticator(TenantDirectory directory, SecretDecryptor decryptor, AuthLimits limits,
                               VerifiedLoginCache verified, Predicate<Destination> externallyServed) {
        this(directory, decryptor, limits, verified, externallyServed, UnknownUserAuth.CLEARTEXT);
    }

    /** @param unknownUsers how a login that matches no row is asked for its password (see {@link LoginMethods}) */
    public ScryptAuthenticator(TenantDirectory directory, SecretDecryptor decryptor, AuthLimits limits,
                               VerifiedLoginCache verified, Predicate<Destination> externallyServed,
                               UnknownUserAuth unknownUsers) {
        this.methods = new LoginMethods(unknownUsers);
        this.externallyServed = Objects.requireNonNull(externallyServed, "externallyServed");
        this.verified = Objects.requireNonNull(verified, "verified");
        this.directory = Objects.requireNonNull(directory, "directory");
        this.decryptor = Objects.requireNonNull(decryptor, "decryptor");
        this.limits = Objects.requireNonNull(limits, "limits");
        this.lookupPool = boundedPool("perseus-auth-lookup-", limits.lookupThreads(), limits.lookupQueueCapacity());
        this.hashPool = boundedPool("perseus-auth-scrypt-", limits.maxConcurrentHashChecks(),
                limits.hashQueueCapacity());
        // Made now, off the caller's thread, so the first unknown tenant is not slower than later ones.
        hashPool.execute(EasyScrypt::dummyHash);
    }

    @Override
    public CompletableFuture<TenantRoute> authenticate(LoginRequest request) {
        Login login = new Login(request, new CompletableFuture<>());
        dispatch(lookupPool, login, () -> lookUp(login), AuthErrors::lookupQueueFull);
        return login.result;
    }

    /**
     * Reads the row (on a lookup thread) to decide how to ask for the password. The row read goes with the login
     * to {@link #authenticate}, so a login still costs one lookup.
     */
    @Override
    public CompletableFuture<LoginMethod> prepare(LoginRequest request) {
        CompletableFuture<LoginMethod> result = new CompletableFuture<>();
        try {
            lookupPool.execute(() -> {
                try {
                    TenantRecord row = directory.find(request.database(), request.schema()).orElse(null);
                    result.complete(methods.choose(request, row));
                } catch (TenantLookupException e) {
                    log.warn("login of {} failed: {}", describe(request), e.getMessage());
                    result.completeExceptionally(AuthErrors.authDbUnavailable());
                } catch (RuntimeException e) {
                    log.error("login of {} failed with an unexpected error", describe(request), e);
                    result.completeExceptionally(AuthErrors.internal());
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(lookupPool.isShutdown() ? AuthErrors.shuttingDown()
                    : AuthErrors.lookupQueueFull());
        }
        return result;
    }

    /** Console logins (AdminSettings): the same hash pool, queue and deadline as tenant logins. */
    @Override
    public CompletableFuture<Boolean> verify(String storedHashes, String password) {
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        try {
            hashPool.execute(() -> {
                try {
                    hashChecks.incrementAndGet();
                    ClientPasswordHashes hashes = ClientPasswordHashes.parse(storedHashes);
                    int matched = hashes.anyUsable() ? hashes.match(password) : ScryptCheck.dummyCheck(password);
                    result.complete(matched != ClientPasswordHashes.NO_MATCH);
                } catch (RuntimeException e) {
                    result.completeExceptionally(AuthErrors.internal());
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(hashPool.isShutdown() ? AuthErrors.shuttingDown() : AuthErrors.hashQueueFull());
        }
        return result;
    }

    /** The verified-login cache (its hit and miss counters are for metrics). */
    public VerifiedLoginCache verifiedLogins() {
        return verified;
    }

    /** Logins whose password was checked with scrypt (each runs one scrypt per usable hash of the row). */
    public long hashChecks() {
        return hashChecks.get();
    }

    /** Fails queued logins with 57P01 and stops both pools; checks already running finish on their own. */
    @Override
    public void close() {
        for (ThreadPoolExecutor pool : List.of(lookupPool, hashPool)) {
            for (Runnable pending : pool.shutdownNow()) {
                if (pending instanceof Stage stage) {
                    stage.login.fail(AuthErrors.shuttingDown());
                }
            }
        }
        try {
            lookupPool.awaitTermination(5, TimeUnit.SECONDS);
            hashPool.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void lookUp(Login login) {
        LoginRequest request = login.request;
        Optional<TenantRecord> tenant;
        try {
            tenant = request.method().looked() ? Optional.ofNullable(request.method().row())
                    : directory.find(request.database(), request.schema());
        } catch (TenantLookupException e) {
            // The message is redacted by contract; the stack trace is left out because driver causes may not be.
            log.warn("login of {} failed: {}", describe(request), e.getMessage());
            login.fail(AuthErrors.authDbUnavailable());
            return;
        }
        if (request.proved() != null) {
            // The client proved the password with SCRAM against a verifier of this very row (prepare read it).
            TenantRecord row = tenant.orElse(null);
            Integer position = row == null || !Objects.equals(request.user(), row.sourceUser()) ? null
                    : ClientPasswordHashes.verifiers(row.sourcePassHashed()).get(request.proved());
            if (position == null) {
                login.fail(AuthErrors.passwordFailed(request.user()));
                return;
            }
            openRoute(login, row, position, false);
            return;
        }
        int cached = cachedMatch(request, tenant.orElse(null));
        if (cached != ClientPasswordHashes.NO_MATCH) {
            // Already on a lookup thread, where openRoute runs anyway.
            openRoute(login, tenant.get(), cached, true);
            return;
        }
        long queuedAt = System.nanoTime();
        dispatch(hashPool, login, () -> checkPassword(login, tenant.orElse(null), queuedAt),
                AuthErrors::hashQueueFull);
    }

    private void checkPassword(Login login, TenantRecord tenant, long queuedAt) {
        if (System.nanoTime() - queuedAt > limits.hashQueueDeadline().toNanos()) {
            log.info("login of {} refused: waited more than {} for a password check (raise "
                    + "ClientSettings.MaxConcurrentHashChecks if this host has idle cores)",
                    describe(login.request), limits.hashQueueDeadline());
            login.fail(AuthErrors.hashQueueFull());
            return;
        }
        hashChecks.incrementAndGet();
        ScryptCheck checked = ScryptCheck.check(login.request, tenant);
        LoginFailure failure = checked.failure();
        if (failure != null) {
            String row = tenant == null ? "" : " (perseus_auth row id " + tenant.id() + ")";
            if (failure == LoginFailure.UNUSABLE_STORED_HASH) {
                log.warn("login of {} refused: {}{}", describe(login.request), failure.description, row);
            } else {
                // DEBUG: a guessing flood would write a line per attempt; the session's summary line counts them.
                log.debug("login of {} refused: {}{}", describe(login.request), failure.description, row);
            }
            login.fail(AuthErrors.passwordFailed(login.request.user()));
            return;
        }
        verified.remember(tenant.id(), tenant.sourcePassHashed(), login.request.password(), checked.hashPosition());
        dispatch(lookupPool, login, () -> openRoute(login, tenant, checked.hashPosition(), false),
                AuthErrors::lookupQueueFull);
    }

    /** The hash position remembered for this row, user and password, or NO_MATCH (then scrypt decides). */
    private int cachedMatch(LoginRequest request, TenantRecord tenant) {
        if (tenant == null || tenant.sourcePassHashed() == null || request.password() == null
                || !Objects.equals(request.user(), tenant.sourceUser())) {
            return ClientPasswordHashes.NO_MATCH;
        }
        return verified.lookup(tenant.id(), tenant.sourcePassHashed(), request.password());
    }

    private void openRoute(Login login, TenantRecord tenant, int hashPosition, boolean fromCache) {
        Destination destination = destinationOf(login, tenant);
        if (externallyServed.test(new Destination(destination.host(), destination.port(), destination.database(),
                ""))) {
            // A credential source gives this backend's credentials: dest_pass_enc may be empty or anything.
            TenantRoute route = new TenantRoute(login.request.database(), login.request.schema(),
                    login.request.user(), destination, null);
            if (login.result.complete(route)) {
                log.info("login of {} accepted (perseus_auth row id {}, client password hash #{}{}): destination {},"
                        + " credentials from its credential source", describe(login.request), tenant.id(),
                        hashPosition, fromCache ? ", recently verified" : "", destination);
            }
            return;
        }
        if (isBlank(tenant.destPassEnc())) {
            throw misconfigured(login, tenant, "its dest_pass_enc is empty and no CredentialSources entry serves"
                    + " backend " + destination.host() + ":" + destination.port() + "/" + destination.database(),
                    "store the encrypted backend password ('perseus-tools encpass') or add a CredentialSources"
                    + " entry for that dest_host/dest_db");
        }
        String password;
        try {
            password = decryptor.decrypt(tenant.destPassEnc());
        } catch (SecretDecryptionException e) {
            // Names the destination: when KMS is down, only destinations not yet decrypted fail, and this says which.
            throw misconfigured(login, tenant, "its dest_pass_enc (the password for backend " + destination
                    + ") could not be decrypted (" + e.getMessage() + ")",
                    "check the key configuration and the row's dest_pass_enc");
        }
        BackendCredentials credentials = new BackendCredentials(tenant.destUser(), password);
        TenantRoute route = new TenantRoute(login.request.database(), login.request.schema(), login.request.user(),
                destination, credentials, hashPosition);
        if (login.result.complete(route)) {
            log.info("login of {} accepted (perseus_auth row id {}, client password hash #{}{}): destination {},"
                    + " credentials {}", describe(login.request), tenant.id(), hashPosition,
                    fromCache ? ", recently verified" : "", destination, credentials);
        }
    }

    private Destination destinationOf(Login login, TenantRecord tenant) {
        if (isBlank(tenant.destDb()) || isBlank(tenant.destUser())) {
            throw misconfigured(login, tenant, "its dest_db or dest_user is empty", "fill in dest_db and dest_user");
        }
        if (isBlank(tenant.destHost())) {
            throw misconfigured(login, tenant, "its dest_host is empty", "set dest_host to host or host:port");
        }
        try {
            return Destination.of(tenant.destHost(), tenant.destDb(), tenant.destUser());
        } catch (IllegalArgumentException e) {
            throw misconfigured(login, tenant, e.getMessage(), "set dest_host to host or host:port");
        }
    }

    /** Logs for the operator (who can fix the row) and builds the client's error (who cannot). */
    private static PgException misconfigured(Login login, TenantRecord tenant, String problem, String action) {
        PgException error = AuthErrors.tenantMisconfigured(tenant, problem, action);
        log.warn("login of {} failed: {}", describe(login.request), error.getMessage());
        return error;
    }

    /**
     * Runs one stage of a login on a pool. A stage that fails completes the login exceptionally; a full queue or a
     * closed authenticator fails it at once. Stages of a login whose future is already done are skipped.
     */
    private void dispatch(ThreadPoolExecutor pool, Login login, Runnable body, Supplier<PgException> queueFull) {
        try {
            pool.execute(new Stage(login, body));
        } catch (RejectedExecutionException e) {
            login.fail(pool.isShutdown() ? AuthErrors.shuttingDown() : queueFull.get());
        }
    }

    private record Login(LoginRequest request, CompletableFuture<TenantRoute> result) {
        void fail(PgException error) {
            result.completeExceptionally(error);
        }
    }

    private record Stage(Login login, Runnable body) implements Runnable {
        @Override
        public void run() {
            if (login.result.isDone()) {
                return;
            }
            try {
                body.run();
            } catch (PgException e) {
                login.fail(e);
            } catch (RuntimeException | Error e) {
                log.error("login of {} failed with an unexpected error", describe(login.request), e);
                login.fail(AuthErrors.internal());
            }
        }
    }

    private static ThreadPoolExecutor boundedPool(String namePrefix, int threads, int queueCapacity) {
        AtomicInteger count = new AtomicInteger();
        ThreadFactory factory = runnable -> {
            Thread thread = new Thread(runnable, namePrefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
        ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(queueCapacity), factory, new ThreadPoolExecutor.AbortPolicy());
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }

    /** user@database/schema with control characters replaced, so a client cannot forge log lines. */
    static String describe(LoginRequest request) {
        return printable(request.user()) + "@" + printable(request.database()) + "/" + printable(request.schema());
    }

    private static String printable(String text) {
        if (text == null) {
            return "(none)";
        }
        StringBuilder out = new StringBuilder("\"");
        text.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.append('"').toString();
    }

    private static boolean isBlank(String text) {
        return text == null || text.isBlank();
    }
}
