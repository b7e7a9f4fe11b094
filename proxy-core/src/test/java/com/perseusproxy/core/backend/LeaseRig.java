package com.perseusproxy.core.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.pool.PoolRegistry;
import com.perseusproxy.core.pool.PoolSettings;
import com.perseusproxy.core.protocol.ClientFrameDecoder;
import com.perseusproxy.core.protocol.PgFrameRunDecoder;
import com.perseusproxy.core.session.CancelKeys;
import com.perseusproxy.core.session.ClientRegistry;
import com.perseusproxy.core.session.ClientSession;
import com.perseusproxy.core.session.ClientTimeouts;
import com.perseusproxy.core.session.SessionServices;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The real {@link ClientSession}, {@link BackendPool} and {@link BackendConnection} wired together on
 * {@link EmbeddedChannel}s, with no sockets: a test plays the clients and the PostgreSQL servers byte by byte, and
 * sees exactly what the proxy flushed to each side. Logins always succeed; every tenant is routed to one destination,
 * so all tenants share one pool, as in production.
 */
final class LeaseRig implements AutoCloseable {

    static final Destination DESTINATION = new Destination("db.example", 5432, "appdb", "backend_user");
    /** How long a connection whose client left may take to become idle again. */
    static final Duration CLEANUP_TIMEOUT = Duration.ofSeconds(10);

    private final EmbeddedChannel loopOwner = new EmbeddedChannel();
    private final List<Server> servers = new ArrayList<>();
    private final List<Client> clients = new ArrayList<>();
    private final AtomicInteger nextProcessId = new AtomicInteger(1000);
    /** The connections a cancel was sent for, in order; a test delivers each with {@code cancelFinished()}. */
    final List<BackendConnection> cancels = new ArrayList<>();
    private final PoolRegistry pools;
    private final SessionServices services;

    LeaseRig(int maxOpen) {
        this(maxOpen, PoolSettings.defaults().queryWaitTimeout());
    }

    LeaseRig(int maxOpen, Duration queryWaitTimeout) {
        this(maxOpen, queryWaitTimeout, PoolSettings.DEFAULT_TENANT_LINGER);
    }

    /** @param tenantLinger PoolSettings.TenantLingerMicros: tests of the linger make it long, so a slow machine keeps it */
    LeaseRig(int maxOpen, Duration queryWaitTimeout, Duration tenantLinger) {
        PoolSettings defaults = PoolSettings.defaults();
        PoolSettings settings = new PoolSettings(maxOpen, maxOpen, defaults.maxLifetime(), defaults.maxIdleTime(),
                defaults.connCreateTimeout(), defaults.connCloseTimeout(), defaults.schemaExecTimeout(),
                queryWaitTimeout, defaults.maxPreparedStatements(), defaults.serverCheckDelay(),
                defaults.globalMaxOpen(), tenantLinger);
        pools = new PoolRegistry(loopOwner.eventLoop(), new ScriptedConnector(), d -> settings);
        services = new SessionServices(
                request -> CompletableFuture.completedFuture(new TenantRoute(request.database(), request.schema(),
                        request.user(), DESTINATION, new BackendCredentials("backend_user", "backend-secret"))),
                pools, new CancelKeys(), this::cancel, Duration.ofSeconds(30), CLEANUP_TIMEOUT, 1 << 20,
                new ClientRegistry(loopOwner.eventLoop(), () -> ClientTimeouts.Settings.OFF));
    }

    /** A client that has logged in as {@code user} with {@code schema} (answering a probe lease if one is sent). */
    /**
     * Logs {@code user} in to {@code schema} and, if that opened a backend connection, completes its login: a fresh
     * connection is only pointed at the tenant (its search_path, nothing else). Returns the client once it has had
     * AuthenticationOk, the server's parameters, its key and ReadyForQuery.
     */
    Client loggedIn(String user, String schema) {
        int before = serverCount();
        Client client = login(user, schema);
        if (serverCount() > before) {
            Server fresh = server(before);
            fresh.acceptLogin();
            assertEquals(List.of(SessionSettings.searchPathStatement(schema)), fresh.queries(),
                    "a fresh connection is only pointed at the tenant");
            fresh.complete('I', "SET");
        }
        assertEquals("[R, S, K, Z]", client.received().toString().replaceAll("(, S)+", ", S"),
                "AuthenticationOk, the server's parameters, the key and ReadyForQuery");
        return client;
    }

    Client login(String user, String schema) {
        Client client = new Client(new EmbeddedChannel(new ClientFrameDecoder(1 << 20), new ClientSession(services)));
        clients.add(client);
        client.send(PgWire.startup(Map.of("user", user, "database", "appdb",
                "options", "-c search_path=" + schema)));
        assertEquals("[R]", client.received().toString(), "the proxy asks for the password");
        client.send(PgWire.password("pw-" + user));
        return client;
    }

    /** Sends no CancelRequest: the cancel stays in flight (the connection held out of the pool) until delivered. */
    private void cancel(BackendConnection target) {
        target.cancelStarted();
        cancels.add(target);
    }

    /** Backend connections opened so far, in order. */
    Server server(int index) {
        return servers.get(index);
    }

    int serverCount() {
        return servers.size();
    }

    BackendPool pool() {
        return pools.pools().iterator().next();
    }

    /** Runs what the channels queued on their event loops until nothing moves. */
    void settle() {
        for (int round = 0; round < 5; round++) {
            loopOwner.runPendingTasks();
            loopOwner.runScheduledPendingTasks();
            clients.forEach(c -> c.channel.runPendingTasks());
            servers.forEach(s -> s.channel.runPendingTasks());
        }
    }

    @Override
    public void close() {
        clients.forEach(c -> c.channel.finishAndReleaseAll());
        servers.forEach(s -> s.channel.finishAndReleaseAll());
        pools.close();
        loopOwner.finishAndReleaseAll();
    }

    /** Bytes that crossed one channel in one direction, split into messages as they are read. */
    private static final class Stream {
        private final ByteBuf pending = Unpooled.buffer();

        List<PgWire.Message> drain(EmbeddedChannel channel) {
            ByteBuf chunk;
            while ((chunk = channel.readOutbound()) != null) {
                pending.writeBytes(chunk);
                chunk.release();
            }
            return PgWire.split(pending);
        }
    }

    /** The client side of one session: what a driver writes, and what the proxy flushed back to it. */
    final class Client {
        final EmbeddedChannel channel;
        private final Stream fromProxy = new Stream();

        private Client(EmbeddedChannel channel) {
            this.channel = channel;
        }

        void send(byte[] bytes) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            settle();
        }

        /** Sends the bytes one at a time, as a slow network could deliver them. */
        void sendFragmented(byte[] bytes) {
            for (byte b : bytes) {
                channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
                settle();
            }
        }

        List<PgWire.Message> received() {
            return fromProxy.drain(channel);
        }

        /** The bytes the proxy flushed to this client since the last call, exactly (not mixed with {@link #received}). */
        byte[] receivedBytes() {
            ByteBuf all = Unpooled.buffer();
            ByteBuf chunk;
            while ((chunk = channel.readOutbound()) != null) {
                all.writeBytes(chunk);
                chunk.release();
            }
            byte[] bytes = new byte[all.readableBytes()];
            all.readBytes(bytes);
            return bytes;
        }

        void disconnect() {
            channel.close();
            settle();
        }
    }

    /** One scripted PostgreSQL server session behind a real {@link BackendConnection}. */
    final class Server {
        final EmbeddedChannel channel;
        final BackendConnection connection;
        final int processId = nextProcessId.getAndIncrement();
        private final ByteBuf fromProxy = Unpooled.buffer();
        private boolean startupSeen;

        private Server(EmbeddedChannel channel, BackendConnection connection) {
            this.channel = channel;
            this.connection = connection;
        }

        /** What the proxy flushed to this server since the last call (the StartupMessage is checked and dropped). */
        List<PgWire.Message> received() {
            ByteBuf chunk;
            while ((chunk = channel.readOutbound()) != null) {
                fromProxy.writeBytes(chunk);
                chunk.release();
            }
            if (!startupSeen && fromProxy.readableBytes() >= 8) {
                int length = fromProxy.getInt(fromProxy.readerIndex());
                assertEquals(0x0003_0000, fromProxy.getInt(fromProxy.readerIndex() + 4), "protocol 3.0 startup");
                fromProxy.skipBytes(length);
                startupSeen = true;
            }
            return PgWire.split(fromProxy);
        }

        /** The simple-protocol SQL texts the proxy sent since the last call. */
        List<String> queries() {
            List<String> sql = new ArrayList<>();
            for (PgWire.Message message : received()) {
                assertEquals('Q', message.tag(), "expected only simple queries, got " + message);
                sql.add(message.text());
            }
            return sql;
        }

        /** Accepts the login as a trusting server would. */
        void acceptLogin() {
            received();
            assertTrue(startupSeen, "the proxy sent a StartupMessage");
            // What PostgreSQL 15 reports at login (the tracked settings among them).
            reply(PgWire.authenticationOk(), PgWire.parameterStatus("server_version", "15.0"),
                    PgWire.parameterStatus("client_encoding", "UTF8"), PgWire.parameterStatus("DateStyle", "ISO, MDY"),
                    PgWire.parameterStatus("TimeZone", "UTC"), PgWire.parameterStatus("IntervalStyle", "postgres"),
                    PgWire.parameterStatus("application_name", "perseus"),
                    PgWire.parameterStatus("standard_conforming_strings", "on"),
                    PgWire.backendKeyData(processId, 42), PgWire.readyForQuery('I'));
        }

        /** Completes one simple Query with these command tags and a ReadyForQuery of {@code status}. */
        void complete(char status, String... tags) {
            byte[][] parts = new byte[tags.length + 1][];
            for (int i = 0; i < tags.length; i++) {
                parts[i] = PgWire.commandComplete(tags[i]);
            }
            parts[tags.length] = PgWire.readyForQuery(status);
            reply(parts);
        }

        /** Sends {@code bytes} as the server, in one read, as a network may cut them anywhere. */
        void replyRaw(byte[] bytes) {
            channel.writeInbound(Unpooled.wrappedBuffer(bytes));
            settle();
        }

        void reply(byte[]... messages) {
            channel.writeInbound(Unpooled.wrappedBuffer(PgWire.concat(messages)));
            settle();
        }
    }

    /** Opens "connections" as embedded channels with a real BackendConnection on each, logged in by the test. */
    private final class ScriptedConnector extends BackendConnector {
        ScriptedConnector() {
            super(Runnable::run);
        }

        @Override
        public Future<BackendConnection> connect(EventLoop loop, Destination destination,
                                                 BackendCredentials credentials, ConnectionOwner owner,
                                                 Duration createTimeout, Duration maxLifetime) {
            Promise<BackendConnection> promise = loop.newPromise();
            BackendConnection connection = new BackendConnection(destination, credentials, owner, promise, 0);
            servers.add(new Server(new EmbeddedChannel(new PgFrameRunDecoder(1 << 24), connection.reader()), connection));
            return promise;
        }
    }
}
