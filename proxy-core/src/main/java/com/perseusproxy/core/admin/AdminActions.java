package com.perseusproxy.core.admin;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.session.ClientSession;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console commands that change something. Each returns a future that completes (on any thread) with the
 * CommandComplete to send; none blocks the loop. A database argument names pools by {@code dest_db}, by
 * {@code host/dest_db} or by {@code host:port/dest_db} (as OverrideSettings names them); none means every pool.
 */
final class AdminActions {

    private static final Logger log = LoggerFactory.getLogger(AdminActions.class);
    private static final long WAIT_CLOSE_POLL_MILLIS = 100;

    private final AdminConsole console;
    private final EventLoop loop;

    AdminActions(AdminConsole console, EventLoop loop) {
        this.console = console;
        this.loop = loop;
    }

    CompletableFuture<AdminResult> run(AdminCommand command) {
        String db = command.argument();
        log.info("console: {}{}", command.verb(), db == null ? "" : " " + AdminCommand.printable(db));
        return switch (command.verb()) {
            case "PAUSE" -> pause(db);
            case "RESUME" -> resume(db);
            case "RECONNECT" -> done("RECONNECT", pools(db, true).stream().peek(BackendPool::reconnect).count());
            case "KILL" -> kill(db);
            case "KILL_CLIENT" -> killClient(db);
            case "WAIT_CLOSE" -> waitClose(pools(db, true));
            case "RELOAD" -> console.host().reload().thenApply(v -> AdminResult.command("RELOAD"));
            case "SHUTDOWN" -> {
                console.host().shutdown(db != null);
                yield CompletableFuture.completedFuture(AdminResult.command("SHUTDOWN"));
            }
            default -> throw new IllegalArgumentException(command.verb());
        };
    }

    /** Completes once every lease in flight on the pools has been returned; new ones wait for RESUME. */
    private CompletableFuture<AdminResult> pause(String db) {
        List<BackendPool> pools = pools(db, true);
        if (db == null) {
            console.pools().pauseNewPools(true);
        }
        CompletableFuture<AdminResult> result = new CompletableFuture<>();
        AtomicInteger pending = new AtomicInteger(pools.size() + 1);
        Runnable oneDone = () -> {
            if (pending.decrementAndGet() == 0) {
                log.info("console: PAUSE{} complete: no transaction in flight", db == null ? "" : " " + db);
                result.complete(AdminResult.command("PAUSE"));
            }
        };
        for (BackendPool pool : pools) {
            Future<Void> quiet = pool.pause();
            quiet.addListener(f -> oneDone.run());
        }
        oneDone.run();
        return result;
    }

    private CompletableFuture<AdminResult> resume(String db) {
        List<BackendPool> pools = pools(db, true);
        if (db == null) {
            console.pools().pauseNewPools(false);
        }
        List<BackendPool> paused = pools.stream().filter(BackendPool::paused).toList();
        if (paused.isEmpty()) {
            throw AdminCommand.error("55000", (db == null ? "no pool is" : "the pools of " + db + " are not")
                    + " paused; SHOW DATABASES shows each pool's paused flag");
        }
        paused.forEach(BackendPool::resume);
        return done("RESUME", paused.size());
    }

    /** Holds new leases (until RESUME), closes every backend connection and every client of those pools. */
    private CompletableFuture<AdminResult> kill(String db) {
        List<BackendPool> pools = pools(db, true);
        List<Destination> killed = pools.stream().map(BackendPool::destination).toList();
        PgException why = terminated("KILL" + (db == null ? "" : " " + db));
        for (ClientSession session : new ArrayList<>(console.clients())) {
            if (killed.contains(session.info().pool())) {
                session.kill(why);
            }
        }
        pools.forEach(BackendPool::kill);
        return done("KILL", pools.size());
    }

    private CompletableFuture<AdminResult> killClient(String idText) {
        long id;
        try {
            id = idText.startsWith("0x") || idText.startsWith("0X") ? Long.parseLong(idText.substring(2), 16)
                    : Long.parseLong(idText);
        } catch (NumberFormatException e) {
            throw AdminCommand.error("22023", "KILL_CLIENT needs a client id such as 0x1f (SHOW CLIENTS' ptr"
                    + " column) or its decimal value, got " + AdminCommand.printable(idText));
        }
        for (ClientSession session : new ArrayList<>(console.clients())) {
            if (session.info().id() == id) {
                session.kill(terminated("KILL_CLIENT"));
                return done("KILL_CLIENT", 1);
            }
        }
        throw AdminCommand.error("42704", "no client with id " + AdminCommand.printable(idText) + "; SHOW CLIENTS"
                + " lists them (ptr column)");
    }

    /** Waits until the connections RECONNECT marked have all been closed. */
    private CompletableFuture<AdminResult> waitClose(List<BackendPool> pools) {
        CompletableFuture<AdminResult> result = new CompletableFuture<>();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            if (pools.stream().allMatch(p -> p.closeNeededCount() == 0)) {
                result.complete(AdminResult.command("WAIT_CLOSE"));
            } else {
                loop.schedule(check[0], WAIT_CLOSE_POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
        };
        check[0].run();
        return result;
    }

    /**
     * The pools a database argument names; none names every pool.
     *
     * @param mustExist a named database without pools is an error (a typo must not silently do nothing)
     */
    private List<BackendPool> pools(String db, boolean mustExist) {
        List<BackendPool> matched = new ArrayList<>();
        for (BackendPool pool : console.pools().pools()) {
            Destination d = pool.destination();
            if (db == null || db.equals(d.database()) || db.equals(d.host() + "/" + d.database())
                    || db.equals(d.host() + ":" + d.port() + "/" + d.database())) {
                matched.add(pool);
            }
        }
        if (db != null && matched.isEmpty() && mustExist) {
            throw AdminCommand.error("3D000", "no pool for database " + AdminCommand.printable(db) + "; SHOW"
                    + " DATABASES lists them (name it by dest_db, host/dest_db or host:port/dest_db)");
        }
        return matched;
    }

    private static PgException terminated(String command) {
        return new PgException("57P01", "terminating connection due to administrator command (" + command + " in"
                + " the proxy's admin console); reconnect to continue");
    }

    private static CompletableFuture<AdminResult> done(String tag, long ignoredCount) {
        return CompletableFuture.completedFuture(AdminResult.command(tag));
    }
}
