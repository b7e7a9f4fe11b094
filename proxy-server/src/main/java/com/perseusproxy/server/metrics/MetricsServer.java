package com.perseusproxy.server.metrics;

import com.perseusproxy.core.backend.Destination;
import java.util.function.Function;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import com.sun.net.httpserver.HttpServer;
import io.netty.util.concurrent.DefaultThreadFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The HTTP listener on {@code MetricsAddress}: {@code GET /metrics} (Prometheus text, Perseus's metric names) and
 * {@code GET /health} (build information as JSON, Perseus's field names). It runs on its own single thread, so a
 * slow scraper never touches the proxy's data event loop, which it reads only through thread-safe snapshots.
 * {@code /metrics} is written by the Prometheus Java client's text format writer from the families that
 * {@link MetricFamilies} registered.
 * Nothing it serves contains a secret: pools are named by host and database only.
 */
public final class MetricsServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(MetricsServer.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

    private final HttpServer http;
    private final ExecutorService thread;
    private final MetricFamilies families;
    private final PrometheusTextFormatWriter text = PrometheusTextFormatWriter.create();
    private final byte[] health;

    private final Readiness readiness;

    private MetricsServer(HttpServer http, ExecutorService thread, MetricFamilies families, BuildInfo build,
                          Readiness readiness) throws IOException {
        this.readiness = readiness;
        this.http = http;
        this.thread = thread;
        this.families = families;
        this.health = JSON.writeValueAsBytes(build);
        http.createContext("/metrics", exchange -> respond(exchange, "/metrics", this::metrics,
                PrometheusTextFormatWriter.CONTENT_TYPE));
        http.createContext("/health", exchange -> respond(exchange, "/health", () -> health, "application/json"));
        http.createContext("/ready", this::ready);
        http.createContext("/", exchange -> {
            try (exchange) {
                exchange.sendResponseHeaders(404, -1);
            }
        });
    }

    /**
     * Binds and starts serving, with {@code /ready} answering from {@code readiness}.
     *
     * @throws UncheckedIOException when the address cannot be bound (the message says which key to change)
     */
    public static MetricsServer start(InetSocketAddress address, MetricFamilies families, BuildInfo build,
                                      Readiness readiness) {
        ExecutorService thread = Executors.newSingleThreadExecutor(new DefaultThreadFactory("perseus-metrics", true));
        try {
            HttpServer http = HttpServer.create(address, 16);
            http.setExecutor(thread);
            MetricsServer server = new MetricsServer(http, thread, families, build, readiness);
            http.start();
            log.info("serving /metrics, /health and /ready on {}", http.getAddress());
            return server;
        } catch (IOException e) {
            thread.shutdownNow();
            String why = e instanceof BindException ? "it is in use or not an address of this host" : e.toString();
            throw new UncheckedIOException("cannot listen for metrics on " + address + " (" + why + "): change "
                    + "MetricsAddress, or set it to \"\" to turn the metrics endpoint off", e);
        }
    }

    public int port() {
        return http.getAddress().getPort();
    }

    private byte[] metrics() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
        // Every name here is a legacy (ASCII) Prometheus name, so no escaping scheme changes any of them.
        text.write(out, families.registry().scrape(), EscapingScheme.ALLOW_UTF8);
        return out.toByteArray();
    }

    /** 200 when the proxy should get new clients, 503 (with the reason) when not: for load-balancer probes. */
    private void ready(HttpExchange exchange) throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals("/ready")) {
                exchange.sendResponseHeaders(404, -1);
                return;
            }
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            String problem = readiness.problem();
            byte[] body = JSON.writeValueAsBytes(problem == null ? java.util.Map.of("ready", true)
                    : java.util.Map.of("ready", false, "reason", problem));
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            int status = problem == null ? 200 : 503;
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(status, -1);
            } else {
                exchange.sendResponseHeaders(status, body.length);
                exchange.getResponseBody().write(body);
            }
        }
    }

    private interface Body {
        byte[] get() throws IOException;
    }

    private static void respond(HttpExchange exchange, String path, Body body, String contentType)
            throws IOException {
        try (exchange) {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                exchange.sendResponseHeaders(404, -1); // contexts match by prefix: /metricsx is not /metrics
                return;
            }
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes;
            try {
                bytes = body.get();
            } catch (RuntimeException e) {
                log.warn("cannot render {}: {}", path, e.toString());
                exchange.sendResponseHeaders(500, -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", contentType);
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(200, -1);
            } else {
                exchange.sendResponseHeaders(200, bytes.length);
                exchange.getResponseBody().write(bytes);
            }
        }
    }

    @Override
    public void close() {
        http.stop(0);
        thread.shutdownNow();
    }
}
