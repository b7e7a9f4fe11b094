package com.perseusproxy.core.admin;

import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.pool.BackendPool;
import com.perseusproxy.core.protocol.PgException;
import com.perseusproxy.core.pool.PoolSlices;
import io.netty.channel.EventLoop;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console commands that change something. Each returns a future that completes (on any thread) with the
 * CommandComplete to send; none blocks the loop. A pool's slices and a loop's sessions are acted on by tasks posted
 * to their own data loop. A database argument names pools by {@code dest_db}, by
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
            case "RECONNECT" -> {
                pools(db, true).forEach(p -> p.forEachSlice(BackendPool::reconnect));
                yield done("RECONNECT");
            }
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

    /**
     * Completes once every lease in flight on the pools has been returned; new ones wait for RESUME. Each slice
     * pauses on its own loop and reports when it is quiet.
     */
    private CompletableFuture<AdminResult> pause(String db) {
        List<PoolSlices> pools = pools(db, true);
        if (db == null) {
            console.pools().pauseNewPools(true);
        }
        CompletableFuture<AdminResult> result = new CompletableFuture<>();
        int slices = pools.stream().mapToInt(p -> p.slices().size()).sum();
        AtomicInteger pending = new AtomicInteger(slices + 1);
        Runnable oneDone = () -> {
            if (pending.decrementAndGet() == 0) {
                log.info("console: PAUSE{} complete: no transaction in flight", db == null ? "" : " " + db);
                result.complete(AdminResult.command("PAUSE"));
            }
        };
        for (PoolSlices pool : pools) {
            pool.forEachSlice(slice -> slice.pause().addListener(f -> oneDone.run()));
        }
        oneDone.run();
        return result;
    }

    private CompletableFuture<AdminResult> resume(String db) {
        List<PoolSlices> pools = pools(db, true);
        if (db == null) {
            console.pools().pauseNewPools(false);
        }
        List<CompletableFuture<List<Boolean>>> resumed = pools.stream().map(p -> p.askEachSlice(slice -> {
            if (!slice.paused()) {
                return false;
            }
            slice.resume();
            return true;
        })).toList();
        return CompletableFuture.allOf(resumed.toArray(CompletableFuture[]::new)).thenApply(v -> {
            if (resumed.stream().noneMatch(r -> r.join().contains(true))) {
                throw AdminCommand.error("55000", (db == null ? "no pool is" : "the pools of " + db + " are not")
                        + " paused; SHOW DATABASES shows each pool's paused flag");
            }
            return AdminResult.command("RESUME");
        });
    }

    /** Holds new leases (until RESUME), closes every backend connection and every client of those pools. */
    private CompletableFuture<AdminResult> kill(String db) {
        List<PoolSlices> pools = pools(db, true);
        List<Destination> killed = pools.stream().map(PoolSlices::destination).toList();
        PgException why = terminated("KILL" + (db == null ? "" : " " + db));
        // Clients first, then the pools, on every loop: a killed pool's sessions must not take a new lease between.
        return console.forEachClient(session -> killed.contains(session.info().pool()), session -> session.kill(why))
                .thenCompose(n -> {
                    List<CompletableFuture<List<Boolean>>> done = pools.stream().map(p -> p.askEachSlice(slice -> {
                        slice.kill();
                        return true;
                    })).toList();
                    return CompletableFuture.allOf(done.toArray(CompletableFuture[]::new));
                })
                .thenApply(v -> AdminResult.command("KILL"));
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
        return console.forEachClient(session -> session.info().id() == id,
                session -> session.kill(terminated("KILL_CLIENT"))).thenApply(killed -> {
                    if (killed == 0) {
                        throw AdminCommand.error("42704", "no client with id " + AdminCommand.printable(idText)
                                + "; SHOW CLIENTS lists them (ptr column)");
                    }
                    return AdminResult.command("KILL_CLIENT");
                });
    }

    /** Waits until the connections RECONNECT marked have all been closed (each slice asked on its loop). */
    private CompletableFuture<AdminResult> waitClose(List<PoolSlices> pools) {
        CompletableFuture<AdminResult> result = new CompletableFuture<>();
        Runnable[] check = new Runnable[1];
        check[0] = () -> {
            List<CompletableFuture<List<Integer>>> counts = pools.stream()
                    .map(p -> p.askEachSlice(BackendPool::closeNeededCount)).toList();
            CompletableFuture.allOf(counts.toArray(CompletableFuture[]::new)).thenRun(() -> {
                if (counts.stream().allMatch(c -> c.join().stream().allMatch(n -> n == 0))) {
                    result.complete(AdminResult.command("WAIT_CLOSE"));
                } else {
                    loop.schedule(check[0], WAIT_CLOSE_POLL_MILLIS, TimeUnit.MILLISECONDS);
                }
            });
        };
        check[0].run();
        return result;
    }

    /**
     * The pools a database argument names; none names every pool.
     *
     * @param mustExist a named database without pools is an error (a typo must not silently do nothing)
     */
    private List<PoolSlices> pools(String db, boolean mustExist) {
        List<PoolSlices> matched = new ArrayList<>();
        for (PoolSlices pool : console.pools().destinations()) {
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

    private static CompletableFuture<AdminResult> done(String tag) {
        return CompletableFuture.completedFuture(AdminResult.command(tag));
    }
}
