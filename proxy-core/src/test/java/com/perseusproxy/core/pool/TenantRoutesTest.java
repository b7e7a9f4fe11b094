package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.perseusproxy.core.auth.TenantRoute;
import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.Destination;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Account switches reach sessions at their next transaction; reads that finish late do not undo them. */
class TenantRoutesTest {

    static final Destination ODD = new Destination("db", 5432, "app", "app_odd");
    static final Destination EVEN = new Destination("db", 5432, "app", "app_even");
    static final TenantRoute VIA_ODD = route(ODD);
    static final TenantRoute VIA_EVEN = route(EVEN);

    final EventLoop loop = new DefaultEventLoop();
    final PoolRegistry registry = new PoolRegistry(loop, new BackendConnector(Runnable::run),
            d -> PoolSettings.defaults());

    static TenantRoute route(Destination destination) {
        return new TenantRoute("mm", "tenant_a", "mmuser", destination,
                new BackendCredentials(destination.user(), "pw-" + destination.user()));
    }

    @AfterEach
    void stop() {
        registry.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aRefreshedRouteMovesTheNextTransactionToTheNewAccount() throws Exception {
        TenantRoutes routes = registry.routes();
        BackendPool oddPool = onLoop(() -> routes.routeLogin(VIA_ODD, 1));
        assertEquals(ODD, oddPool.destination());
        routes.offer(VIA_EVEN, 2);
        BackendPool next = onLoop(() -> routes.poolFor(VIA_ODD));
        assertEquals(EVEN, next.destination(), "a session logged in via odd runs its next transaction via even");
        assertEquals(List.of(new TenantRoutes.Key("mm", "tenant_a")), routes.inUse());
    }

    @Test
    void aLoginThatReadTheRowBeforeTheSwitchDoesNotUndoIt() throws Exception {
        TenantRoutes routes = registry.routes();
        routes.offer(VIA_EVEN, 10);
        BackendPool pool = onLoop(() -> routes.routeLogin(VIA_ODD, 5));
        assertEquals(EVEN, pool.destination());
        assertSame(pool, onLoop(() -> routes.poolFor(VIA_ODD)));
        BackendPool later = onLoop(() -> routes.routeLogin(VIA_ODD, 20));
        assertEquals(ODD, later.destination(), "a login that started after the refresh wins");
    }

    @Test
    void movesCountsOnlyTheChangesThatMayMoveASessionToAnotherPool() throws Exception {
        // Sessions skip the per-transaction pool lookup while this count stays the same, so every route change that
        // can change the answer of poolFor must change it.
        TenantRoutes routes = registry.routes();
        long before = routes.moves();
        onLoop(() -> routes.routeLogin(VIA_ODD, 1));
        long afterFirst = routes.moves();
        assertNotEquals(before, afterFirst, "a tenant seen for the first time");
        onLoop(() -> routes.routeLogin(VIA_ODD, 2));
        assertEquals(afterFirst, routes.moves(), "the same route again: sessions keep their pool");
        routes.offer(VIA_EVEN, 3);
        onLoop(() -> null); // the offer runs on the loop
        assertNotEquals(afterFirst, routes.moves(), "an account switch");
        assertEquals(EVEN, onLoop(() -> routes.poolFor(VIA_ODD)).destination());
    }
}
