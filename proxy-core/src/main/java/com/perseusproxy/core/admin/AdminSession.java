package com.perseusproxy.core.admin;

import com.perseusproxy.core.protocol.FrontendTag;
import com.perseusproxy.core.protocol.MessageReader;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.protocol.PgMessage;
import com.perseusproxy.core.protocol.ServerMessages;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One console connection: a password login against {@code AdminSettings}, then simple Query messages, one at a time.
 * A command that takes time (PAUSE waiting for transactions, RELOAD reading the file) completes asynchronously; the
 * connection is not read meanwhile, so a second statement waits its turn instead of overtaking the first.
 */
final class AdminSession extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(AdminSession.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The login throttle's tenant key for console logins. */
    private static final String CONSOLE_TENANT = "pgbouncer (admin console)";

    private enum State { PASSWORD, AUTHENTICATING, READY, BUSY, CLOSED }

    private final AdminConsole console;
    private final Map<String, String> startup;
    private final ArrayDeque<PgMessage> queued = new ArrayDeque<>();
    private Channel channel;
    private State state = State.PASSWORD;
    private ScheduledFuture<?> loginTimeout;
    private AdminUsers.Role role;
    /** After an extended-protocol message the console refused, everything up to Sync is skipped, as PostgreSQL does. */
    private boolean skipToSync;
    /** Counted in the console's session count (SHOW LISTS) until the channel closes. */
    private boolean counted;
    /** The SCRAM exchange when the console user's hashes include a verifier; null for cleartext. */
    private com.perseusproxy.core.session.SaslSteps sasl;

    AdminSession(AdminConsole console, Map<String, String> startup) {
        this.console = console;
        this.startup = startup;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    void start() {
        console.stats().opened();
        counted = true;
        loginTimeout = channel.eventLoop().schedule(() -> fail(new PgException("08P01", "login did not complete"
                + " within " + console.loginTimeout().toSeconds() + " s (ClientSettings.LoginTimeoutSecs)")),
                console.loginTimeout().toMillis(), TimeUnit.MILLISECONDS);
        String user = startup.getOrDefault("user", "");
        AdminUsers users = console.users();
        java.util.List<com.perseusproxy.core.auth.ScramVerifier> verifiers =
                com.perseusproxy.core.auth.ScramVerifier.exchangeable(users.hashesOf(user));
        if (users.hashesOf(user) == null && users.anyScram()) {
            // Not a console user, but some log in with SCRAM: asked like them, as PostgreSQL asks unknown roles.
            verifiers = java.util.List.of(console.mockScram().verifierFor("pgbouncer", "", user));
        }
        if (verifiers.isEmpty()) {
            channel.writeAndFlush(ServerMessages.authenticationCleartextPassword());
        } else {
            sasl = com.perseusproxy.core.session.SaslSteps.start(channel, verifiers, user);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof PgMessage message)) {
            ReferenceCountUtil.release(msg);
            fail(new PgException("08P01", "unexpected startup packet on an established console connection"));
            return;
        }
        switch (state) {
            case PASSWORD -> {
                try {
                    onPassword(message);
                } finally {
                    message.release();
                }
            }
            case READY -> handle(message);
            case AUTHENTICATING, BUSY -> queued.add(message);
            default -> message.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (counted) {
            counted = false;
            console.stats().closed();
        }
        state = State.CLOSED;
        if (loginTimeout != null) {
            loginTimeout.cancel(false);
            loginTimeout = null;
        }
        queued.forEach(ReferenceCountUtil::release);
        queued.clear();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof PgException pg) {
            fail(pg);
        } else {
            log.debug("console connection {} failed: {}", channel.remoteAddress(), cause.toString());
            channel.close();
        }
    }

    // ---- login -----------------------------------------------------------------------------------------------

    private void onPassword(PgMessage message) {
        if (message.tag() != FrontendTag.PASSWORD) {
            throw new PgException("08P01", "expected a password message, got message type '" + message.tag() + "'");
        }
        String user = startup.getOrDefault("user", "");
        AdminUsers users = console.users();
        if (sasl != null) {
            if (sasl.step(channel, message) != null) { // a wrong proof throws 28P01
                loggedIn(user, users.roleOf(user));
            }
            return;
        }
        String password = MessageReader.password(message);
        String hashes = users.hashesOf(user);
        state = State.AUTHENTICATING;
        channel.config().setAutoRead(false);
        // The console's logins cost scrypt like tenants' do: the same throttle guards them (tenant "pgbouncer").
        com.perseusproxy.core.session.ClientLimits limits = console.limits();
        String source = com.perseusproxy.core.session.ClientLimits.source(channel.remoteAddress());
        if (limits != null) {
            PgException refused = limits.beginCheck(source, CONSOLE_TENANT);
            if (refused != null) {
                limits.loginFailed(channel.eventLoop(), source, CONSOLE_TENANT, refused, true);
                channel.eventLoop().schedule(() -> fail(refused), limits.refusalDelayMillis(),
                        TimeUnit.MILLISECONDS);
                return;
            }
        }
        // An unknown user is checked against a dummy hash, so the answer takes as long as for a known one.
        CompletableFuture<Boolean> check = console.verifier().verify(hashes, password);
        check.whenComplete((ok, error) -> channel.eventLoop().execute(() -> {
            if (state != State.AUTHENTICATING) {
                return;
            }
            if (error != null) {
                fail(asPgException(error));
            } else if (!ok || hashes == null) {
                log.debug("console login of \"{}\" from {} refused: {}", printable(user), channel.remoteAddress(),
                        hashes == null ? "not in AdminSettings.AdminUsers or StatsUsers" : "wrong password");
                PgException wrong = new PgException("28P01", "password authentication failed for user \"" + user
                        + "\"");
                long delay = 0;
                if (limits != null) {
                    limits.loginFailed(channel.eventLoop(), source, CONSOLE_TENANT, wrong, false);
                    delay = limits.checkFailed(source, CONSOLE_TENANT);
                }
                channel.eventLoop().schedule(() -> fail(wrong), delay, TimeUnit.MILLISECONDS);
            } else {
                if (limits != null) {
                    limits.checkSucceeded(source, CONSOLE_TENANT);
                }
                loggedIn(user, users.roleOf(user));
            }
        }));
    }

    private void loggedIn(String user, AdminUsers.Role granted) {
        role = granted;
        loginTimeout.cancel(false);
        loginTimeout = null;
        log.info("console login of \"{}\" ({}) from {}", printable(user), granted, channel.remoteAddress());
        channel.write(ServerMessages.authenticationOk());
        // What PgBouncer's console reports, so that tools which check server_version know where they are.
        Map<String, String> parameters = Map.of("server_version", "1.18.0/bouncer", "client_encoding", "UTF8",
                "server_encoding", "UTF8", "DateStyle", "ISO, MDY", "integer_datetimes", "on",
                "standard_conforming_strings", "on", "TimeZone", "UTC", "application_name",
                startup.getOrDefault("application_name", ""));
        parameters.forEach((n, v) -> channel.write(ServerMessages.parameterStatus(channel.alloc(), n, v)));
        channel.write(ServerMessages.backendKeyData(channel.alloc(), RANDOM.nextInt(), RANDOM.nextInt()));
        ready();
    }

    // ---- statements ------------------------------------------------------------------------------------------

    private void handle(PgMessage message) {
        try {
            char tag = message.tag();
            if (tag == FrontendTag.TERMINATE) {
                state = State.CLOSED;
                channel.close();
            } else if (tag == 'Q') {
                run(MessageReader.readCString(message.payload()));
            } else if (tag == 'S') {
                skipToSync = false;
                ready();
            } else if (!skipToSync) {
                skipToSync = true;
                channel.writeAndFlush(ServerMessages.errorResponse(channel.alloc(), "ERROR", "0A000",
                        "the admin console speaks the simple query protocol only (message type '" + tag + "');"
                                + " with psql this just works, with pgjdbc use preferQueryMode=simple"));
            }
        } finally {
            message.release();
        }
    }

    private void run(String sql) {
        if (sql.isBlank()) {
            channel.write(emptyQueryResponse());
            ready();
            return;
        }
        CompletableFuture<AdminResult> result;
        try {
            AdminCommand command = AdminCommand.parse(sql);
            if (command.isAction() && role != AdminUsers.Role.ADMIN) {
                throw AdminCommand.error("42501", "admin access needed: " + command.verb() + " may be run only by"
                        + " AdminSettings.AdminUsers; StatsUsers may run SHOW commands");
            }
            result = command.verb().equals("SHOW")
                    ? console.gather().thenApply(shows -> shows.show(command.argument()))
                    : new AdminActions(console, channel.eventLoop()).run(command);
        } catch (PgException e) {
            result = CompletableFuture.failedFuture(e);
        }
        if (result.isDone()) {
            answer(result);
            return;
        }
        state = State.BUSY;
        channel.config().setAutoRead(false);
        CompletableFuture<AdminResult> pending = result;
        pending.whenComplete((r, e) -> channel.eventLoop().execute(() -> answer(pending)));
    }

    private void answer(CompletableFuture<AdminResult> result) {
        if (state == State.CLOSED) {
            return;
        }
        try {
            result.join().writeTo(channel);
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
            PgException error = asPgException(e);
            channel.write(ServerMessages.errorResponse(channel.alloc(), "ERROR", error.sqlState(), error.getMessage()));
        }
        ready();
    }

    /** ReadyForQuery, then whatever the client pipelined meanwhile. */
    private void ready() {
        state = State.READY;
        channel.writeAndFlush(ServerMessages.readyForQuery(channel.alloc(), 'I'));
        PgMessage next;
        while (state == State.READY && (next = queued.poll()) != null) {
            handle(next);
        }
        if (state == State.READY) {
            channel.config().setAutoRead(true);
        }
    }

    private io.netty.buffer.ByteBuf emptyQueryResponse() {
        return channel.alloc().buffer(5).writeByte('I').writeInt(4);
    }

    private void fail(PgException error) {
        if (!channel.isActive()) {
            return;
        }
        state = State.CLOSED;
        channel.writeAndFlush(ServerMessages.errorResponse(channel.alloc(), error))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private static PgException asPgException(Throwable error) {
        Throwable cause = error;
        while ((cause instanceof CompletionException || cause instanceof java.util.concurrent.ExecutionException)
                && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof PgException pg) {
            return pg;
        }
        log.warn("console command failed unexpectedly", cause);
        return new PgException("XX000", "internal error in the admin console; the proxy's log has details");
    }

    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return out.toString();
    }
}
