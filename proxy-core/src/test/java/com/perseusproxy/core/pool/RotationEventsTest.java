package com.perseusproxy.core.pool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.perseusproxy.core.backend.BackendConnector;
import com.perseusproxy.core.backend.BackendCredentials;
import com.perseusproxy.core.backend.CredentialSource;
import com.perseusproxy.core.backend.Destination;
import com.perseusproxy.core.metrics.ProxyEvents;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The rotation events the pools and routes report for metrics: what an operator sees during a rotation. */
class RotationEventsTest {

    final List<Object> events = new CopyOnWriteArrayList<>();
    final List<Destination> pools = new CopyOnWriteArrayList<>();
    final ProxyEvents recording = new ProxyEvents() {
        @Override
        public void rotation(Rotation event) {
            events.add(event);
        }

        @Override
        public Pool pool(Destination destination) {
            pools.add(destination);
            return Pool.NONE;
        }
    };
    final EventLoop loop = new DefaultEventLoop();
    final PoolRegistry registry = new PoolRegistry(loop, new BackendConnector(Runnable::run),
            d -> PoolSettings.defaults(), CredentialSource.NONE, recording);

    @AfterEach
    void stop() {
        registry.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    private <T> T onLoop(Callable<T> task) throws Exception {
        return loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    @Test
    void anAccountSwitchIsReportedAndRetiresTheOldPool() throws Exception {
        TenantRoutes routes = registry.routes();
        onLoop(() -> routes.routeLogin(TenantRoutesTest.VIA_ODD, 1));
        routes.offer(TenantRoutesTest.VIA_EVEN, 2);
        onLoop(() -> routes.poolFor(TenantRoutesTest.VIA_ODD));
        assertEquals(List.of(ProxyEvents.Rotation.ACCOUNT_SWITCHED, ProxyEvents.Rotation.POOL_RETIRED), events);
        assertEquals(List.of(TenantRoutesTest.ODD, TenantRoutesTest.EVEN), pools, "one handle per pool, made once");
    }

    @Test
    void newCredentialsForAPoolAreReportedOnce() throws Exception {
        Destination d = TenantRoutesTest.ODD;
        BackendPool pool = onLoop(() -> registry.poolFor(d, new BackendCredentials(d.user(), "first")));
        onLoop(() -> {
            pool.updateCredentials(new BackendCredentials(d.user(), "second"));
            pool.updateCredentials(new BackendCredentials(d.user(), "second")); // the same again: no event
            return null;
        });
        assertTrue(events.contains(ProxyEvents.Rotation.CREDENTIALS_CHANGED), events.toString());
        assertEquals(1, events.stream().filter(ProxyEvents.Rotation.CREDENTIALS_CHANGED::equals).count(), events.toString());
    }
}
