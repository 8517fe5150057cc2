package dev.connstate.monitoring;

import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import dev.connstate.Recorder;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.micrometer.ConnStateMeterBinder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ConnectHandler;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Debian's real {@code prometheus} scrapes an embedded Jetty every second under the
 * {@link ScriptedLoad}; then every query of the dashboard (its variables filled as Grafana fills
 * them) and every alert rule's expression is evaluated through Prometheus' HTTP API and returns
 * data, each alert's condition true, the drain's included. The results go to
 * {@code target/monitoring/prometheus-expressions.md}. {@code PrometheusMonitoringIT} does the
 * same on the distribution with {@code --add-modules=connstate-prometheus}.
 *
 * <p>The Jetty is a {@link TrackedServer} bound to Micrometer's Prometheus registry by
 * {@link ConnStateMeterBinder}, its scrape served by a second, untracked server. That is what lets
 * a drain be seen: a drain stops the tracked connectors from accepting, so Prometheus cannot
 * scrape a server that serves its metrics on them while it drains (or once it stopped), and the
 * drain's forced closes ({@code error_type="drain_timeout"}) never reach it. Here the drain runs
 * by hand ({@code tracker.drain}) while Prometheus scrapes the other port, and the rule fires.</p>
 *
 * <p>What cannot be shown in a test: an alert's {@code for} (5 and 10 minutes), so the two alerts
 * that have one are seen pending in Prometheus, not firing; their expressions are true.</p>
 */
public class PrometheusMonitoringTest
{
    /** Silent clients held open: one more than ConnStateManySilentClients' threshold. */
    private static final int SILENT = 101;
    private static final Path RESULTS = Path.of("target/monitoring/prometheus-expressions.md");

    @TempDir
    Path dir;

    @Test
    public void everyExpressionOfTheDashboardAndTheRulesReturnsData() throws Exception
    {
        Monitoring.assumeInstalled("prometheus");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CountDownLatch release = new CountDownLatch(1);
        Server metrics = metricsServer(registry);
        List<Socket> silent = new ArrayList<>();
        RealPrometheus prometheus = null;
        try (TrackedServer s = new TrackedServer().handler(new ConnectHandler(new TrackedServer.Hello())))
        {
            new ConnStateMeterBinder(s.tracker).bindTo(registry);
            // A sink that takes the first event and never returns, with a queue of 1: every later event but one is dropped.
            s.tracker.addListener("slow", Recorder.blockingUntilInterrupted(release), 1);
            ServerConnector lb = s.addConnector();
            lb.setName("lb-public");
            // The silent clients stay until the drain; the keep-alive timeout closes idle connections.
            lb.setIdleTimeout(300_000);
            ServerConnector tls = s.addTlsConnector();
            tls.setName("public-tls");
            s.tracker.getKeepAlive().setTimeoutMillis(300);
            s.tracker.getClientLimits().setMaxNew(2);
            s.tracker.getClientLimits().setExempt("127.0.0.1,127.0.0.2");
            // The drain's deadline comes before the silent clients' grace ends: they are forced.
            s.tracker.getDrain().setNewGraceMillis(60_000);
            s.start();
            String lbPort = Integer.toString(s.port(lb));
            String instance = "127.0.0.1:" + TrackedServer.portOf(metrics);

            prometheus = RealPrometheus.start(dir, instance, "/metrics", RESULTS.resolveSibling("prometheus.log"));
            // The drops' counter is there, at 0, before any event: its increase is seen.
            prometheus.awaitQuery("the first scrape", "jetty_connstate_listener_dropped_total{jetty_connstate_listener_name=\"slow-1\"} == 0");
            // Every counter moves twice, a scrape apart: rates over a minute see each.
            ScriptedLoad load = new ScriptedLoad(s.port(lb), s.port(tls), TrackedServer.portOf(metrics), 200, (step, sockets) -> pace(s, step, sockets));
            for (int round = 1; round <= 2; round++)
            {
                load.round();
                prometheus.awaitScrapeAfterNow();
            }
            silent.addAll(load.silentClients(SILENT));
            Wait.until(SILENT + " silent clients", () -> s.tracker.getNewConnections() == SILENT);
            prometheus.awaitScrapeAfterNow();

            Map<String, List<String>> values = prometheus.variableValues();
            assertEquals(Map.of("instance", List.of(instance), "port", RealPrometheus.labelValues(s.port(lb), s.port(tls)),
                "connector", List.of("lb-public", "public-tls")), values);
            prometheus.note("Prometheus " + prometheus.version() + ", scraping an embedded Jetty every second; the dashboard's variables as Grafana fills them: "
                + values + ", $__rate_interval = 1m, $__interval = 15s.\n\n## Before the drain\n");
            double before = RealPrometheus.now();
            List<String> empty = prometheus.evaluateDashboard(RealPrometheus.substitutions(values), before);
            Map<String, String> alerts = Monitoring.alertExpressions();
            Map<String, JsonNode> alertResults = new LinkedHashMap<>();
            for (Map.Entry<String, String> alert : alerts.entrySet())
                alertResults.put(alert.getKey(), prometheus.evaluate("alert " + alert.getKey(), alert.getValue(), before));
            // Prometheus' own evaluation of the loaded rules: those without a for fire, the others wait.
            Map<String, String> states = prometheus.awaitAlertStates(Map.of("ConnStateManySilentClients", "pending", "ConnStateKeepAliveRaces", "firing",
                "ConnStateIdleClosesBehindLoadBalancer", "pending", "ConnStateListenerDrops", "firing"));

            // The drain, while Prometheus still scrapes the metrics port.
            s.tracker.drain(1000).get(30, TimeUnit.SECONDS);
            prometheus.awaitScrapeAfterNow();
            prometheus.note("\n## After the drain, forced at its deadline of 1 s\n");
            JsonNode drained = prometheus.evaluate("alert ConnStateDrainForcedAtDeadline", alerts.get("ConnStateDrainForcedAtDeadline"), RealPrometheus.now());
            Map<String, String> drainState = prometheus.awaitAlertStates(Map.of("ConnStateDrainForcedAtDeadline", "firing"));
            prometheus.note("\nPrometheus' alerts: " + states + ", then " + drainState);
            prometheus.writeResults(RESULTS, "Every expression of monitoring/ on a real Prometheus");

            assertEquals(List.of(), empty, "dashboard queries without data");
            assertEquals(Map.of("ConnStateManySilentClients", 1, "ConnStateKeepAliveRaces", 1, "ConnStateIdleClosesBehindLoadBalancer", 1,
                "ConnStateDrainForcedAtDeadline", 0, "ConnStateListenerDrops", 1), sizes(alertResults), alertResults.toString());
            // Exact where the load decides: the silent clients, then each of them forced by the drain.
            Map<String, String> lbLabels = Map.of("instance", instance, "server_port", lbPort, "jetty_connector_name", "lb-public");
            assertEquals(lbLabels, RealPrometheus.labels(alertResults.get("ConnStateManySilentClients").get(0)));
            assertEquals(SILENT, RealPrometheus.value(alertResults.get("ConnStateManySilentClients").get(0)));
            assertEquals(1, drained.size(), drained.toString());
            assertEquals(lbLabels, RealPrometheus.labels(drained.get(0)));
            assertEquals(SILENT, RealPrometheus.value(drained.get(0)));
        }
        finally
        {
            release.countDown();
            for (Socket socket : silent)
                socket.close();
            if (prometheus != null)
                prometheus.close();
            metrics.stop();
            registry.close();
        }
    }

    /**
     * Waits on the tracker's counts (the recorder knows connections by client port, which two
     * rounds, or two client addresses, may share).
     */
    private static void pace(TrackedServer s, ScriptedLoad.Step step, List<Socket> sockets) throws Exception
    {
        switch (step)
        {
            case RACED -> awaitNoConnection(s);
            case TUNNELLED -> Wait.until("the tunnel to be hijacked", () -> s.tracker.getActiveConnections() == 0);
            case CAPPED_HELD -> Wait.until(sockets.size() + " new connections of 127.0.0.3", () -> s.tracker.getNewConnections() == sockets.size());
            // Its two others were counted before it opened: the third is the one refused.
            case CAPPED_REFUSED -> assertEquals(-1, sockets.get(2).getInputStream().read(), "the refused connection's close");
            case ROUND_DONE ->
            {
                awaitNoConnection(s);
                s.recorder.removeEnded();
            }
        }
    }

    private static void awaitNoConnection(TrackedServer s)
    {
        Wait.until("every connection to end", () -> s.tracker.getTrackedConnections() == 0);
    }

    /** An untracked server on a free port of 127.0.0.1 serving the registry's scrape, at any path. */
    private static Server metricsServer(PrometheusMeterRegistry registry) throws Exception
    {
        Server server = TrackedServer.helloServer();
        server.setHandler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
                Content.Sink.write(response, true, registry.scrape(), callback);
                return true;
            }
        });
        server.start();
        return server;
    }

    private static Map<String, Integer> sizes(Map<String, JsonNode> results)
    {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        results.forEach((name, result) -> sizes.put(name, result.size()));
        return sizes;
    }
}
