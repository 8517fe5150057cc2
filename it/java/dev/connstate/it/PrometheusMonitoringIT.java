package dev.connstate.it;

import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.listener.StalledListener;
import dev.connstate.monitoring.Monitoring;
import dev.connstate.monitoring.RealPrometheus;
import dev.connstate.monitoring.ScriptedLoad;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's real {@code prometheus} scrapes the distribution's {@code /metrics}
 * ({@code --add-modules=http,ssl,https,connstate-prometheus}) every second under the
 * {@link ScriptedLoad}, as an operator's would; then every query of the dashboard and every
 * alert rule's expression is evaluated through its HTTP API. The results go to
 * {@code target/monitoring/prometheus-expressions-distribution.md}.
 *
 * <p>What the distribution cannot show, where {@code PrometheusMonitoringTest} (embedded) does:</p>
 * <ul>
 *   <li>the drain forced at its deadline: the module serves the metrics on the connectors that the
 *   drain closes, so a drain happens when Prometheus can no longer scrape: the rule's expression
 *   gives nothing, and its selector, {@code http_server_connection_duration_seconds_count}, is
 *   evaluated instead;</li>
 *   <li>a connector's name: the distribution's connectors have none, so the rule on idle closes
 *   behind a load balancer, as shipped ({@code jetty_connector_name=~"lb.*"}), gives nothing, and
 *   is evaluated as the README says to edit it for the distribution, on the port
 *   ({@code server_port="<port>"}); the dashboard's variable {@code connector} has no value and
 *   is All ({@code .*});</li>
 *   <li>an alert's {@code for}, as in the embedded test: those alerts are pending, not firing.</li>
 * </ul>
 */
public class PrometheusMonitoringIT
{
    private static final int SILENT = 101;
    private static final Path RESULTS = Path.of("target/monitoring/prometheus-expressions-distribution.md");
    private static final String DRAIN_ALERT = "ConnStateDrainForcedAtDeadline";
    private static final String LB_ALERT = "ConnStateIdleClosesBehindLoadBalancer";

    @TempDir
    Path dir;

    @Test
    public void everyExpressionOfTheDashboardAndTheRulesReturnsData() throws Exception
    {
        Monitoring.assumeInstalled("prometheus");
        Base base = Distribution.newBase("monitoring");
        Distribution.Result added = base.run("--add-modules=http,ssl,https,connstate-prometheus", "--approve-all-licenses", Distribution.mavenLocalRepo());
        assertEquals(0, added.exit(), added.output());
        Bases.testClassesJar(base.resolve("lib/connstate/it-stalled.jar"), List.of(StalledListener.class), Map.of());
        // CONNECT tunnels, as an application that proxies would have them.
        Files.writeString(base.resolve("etc/it-connect.xml"), """
            <?xml version="1.0"?>
            <!DOCTYPE Configure PUBLIC "-//Jetty//Configure//EN" "https://jetty.org/configure_10_0.dtd">
            <Configure id="Server" class="org.eclipse.jetty.server.Server">
              <Call name="insertHandler"><Arg><New class="org.eclipse.jetty.server.handler.ConnectHandler"/></Arg></Call>
            </Configure>
            """);
        List<String> properties = new ArrayList<>(List.of(Bases.addKeystore(base)));
        properties.addAll(List.of(
            // A listener that stalls on its first event, with a queue of 1: it drops the rest.
            "jetty.connstate.sinks=", "jetty.connstate.listeners=" + StalledListener.class.getName(), "jetty.connstate.queue.capacity=1",
            // Longer than Prometheus' 1 s between scrapes, so that its own connection stays.
            "jetty.connstate.keepAliveTimeout=2000",
            "jetty.connstate.client.maxNew=2", "jetty.connstate.client.exempt=127.0.0.1,127.0.0.2",
            // The silent clients stay until the end.
            "jetty.http.idleTimeout=300000",
            "etc/it-connect.xml"));
        List<Socket> silent = new ArrayList<>();
        try (Jetty jetty = base.start(properties.toArray(String[]::new));
             RealPrometheus prometheus = RealPrometheus.start(dir, "127.0.0.1:" + jetty.httpPort(), "/metrics", RESULTS.resolveSibling("prometheus-distribution.log")))
        {
            int port = jetty.httpPort();
            String instance = "127.0.0.1:" + port;
            prometheus.awaitQuery("the first scrape", "jetty_connstate_listener_dropped_total");
            AtomicInteger round = new AtomicInteger();
            ScriptedLoad load = new ScriptedLoad(port, jetty.sslPort(), port, 404, (step, sockets) -> pace(prometheus, round.get(), step, sockets));
            while (round.incrementAndGet() <= 2)
                load.round();
            silent.addAll(load.silentClients(SILENT));
            prometheus.awaitQuery(SILENT + " silent clients", "sum(http_server_open_connections{http_connection_state=\"new\"}) == " + SILENT);

            Map<String, List<String>> values = prometheus.variableValues();
            assertEquals(Map.of("instance", List.of(instance), "port", RealPrometheus.labelValues(port, jetty.sslPort()), "connector", List.of()), values);
            prometheus.note("Prometheus " + prometheus.version() + ", scraping the distribution's /metrics (connstate-prometheus) every second; the dashboard's variables as Grafana fills them: "
                + values + " (connector: All, .*), $__rate_interval = 1m, $__interval = 15s.\n");
            double now = RealPrometheus.now();
            List<String> empty = prometheus.evaluateDashboard(RealPrometheus.substitutions(values), now);
            Map<String, JsonNode> alerts = new LinkedHashMap<>();
            for (Map.Entry<String, String> alert : Monitoring.alertExpressions().entrySet())
                alerts.put(alert.getKey(), prometheus.evaluate("alert " + alert.getKey(), alert.getValue(), now));
            // The rule as the README has it edited for the distribution's unnamed connector: by its port.
            String onThePort = Monitoring.alertExpressions().get(LB_ALERT).replace("jetty_connector_name=~\"lb.*\"", "server_port=\"" + port + "\"");
            JsonNode lbByPort = prometheus.evaluate("alert " + LB_ALERT + ", edited for the distribution (server_port=\"" + port + "\")", onThePort, now);
            // The drain's closes cannot be scraped (see the class comment): its selector instead.
            JsonNode closes = prometheus.evaluate("the selector of " + DRAIN_ALERT, "http_server_connection_duration_seconds_count", now);
            Map<String, String> states = prometheus.awaitAlertStates(Map.of("ConnStateManySilentClients", "pending", "ConnStateKeepAliveRaces", "firing",
                "ConnStateListenerDrops", "firing"));
            prometheus.note("\nPrometheus' alerts: " + states);
            prometheus.writeResults(RESULTS, "Every expression of monitoring/ on a real Prometheus, scraping the distribution");

            assertEquals(List.of(), empty, "dashboard queries without data");
            Map<String, Integer> sizes = new LinkedHashMap<>();
            alerts.forEach((name, result) -> sizes.put(name, result.size()));
            assertEquals(Map.of("ConnStateManySilentClients", 1, "ConnStateKeepAliveRaces", 1, LB_ALERT, 0, DRAIN_ALERT, 0, "ConnStateListenerDrops", 1), sizes, alerts.toString());
            assertEquals(Map.of("instance", instance, "server_port", Integer.toString(port)), RealPrometheus.labels(alerts.get("ConnStateManySilentClients").get(0)));
            assertEquals(SILENT, RealPrometheus.value(alerts.get("ConnStateManySilentClients").get(0)));
            assertEquals(Map.of("instance", instance, "server_port", Integer.toString(port), "error_type", "keep_alive_timeout"),
                RealPrometheus.labels(alerts.get("ConnStateKeepAliveRaces").get(0)));
            assertEquals("StalledListener-1", RealPrometheus.labels(alerts.get("ConnStateListenerDrops").get(0)).get("jetty_connstate_listener_name"));
            assertEquals(1, lbByPort.size(), lbByPort.toString());
            assertFalse(closes.isEmpty());
            assertTrue(jetty.isAlive(), jetty.output());
        }
        finally
        {
            for (Socket socket : silent)
                socket.close();
        }
    }

    /** Waits until Prometheus has scraped what the server saw of each step of round {@code round}. */
    private static void pace(RealPrometheus prometheus, int round, ScriptedLoad.Step step, List<Socket> sockets) throws Exception
    {
        switch (step)
        {
            case RACED -> prometheus.awaitQuery("race " + round, "sum(http_server_connection_keep_alive_races_total) == " + round);
            case TUNNELLED -> prometheus.awaitQuery("tunnel " + round, "sum(http_server_connection_hijacks_total) == " + round);
            // Counted before the next opens, so that the third is the one refused.
            case CAPPED_HELD -> prometheus.awaitQuery(sockets.size() + " new connections of 127.0.0.3",
                "sum(http_server_open_connections{http_connection_state=\"new\"}) == " + sockets.size());
            case CAPPED_REFUSED ->
            {
                assertEquals(-1, sockets.get(2).getInputStream().read(), "the refused connection's close");
                prometheus.awaitQuery("rejection " + round, "sum(http_server_connection_rejected_total) == " + round);
            }
            case ROUND_DONE ->
            {
                prometheus.awaitQuery("TLS failures " + round, "sum(http_server_connection_tls_handshake_duration_seconds_count{error_type=\"tls_handshake_failed\"}) == " + round);
                prometheus.awaitQuery("TLS closes " + round, "sum(http_server_connection_duration_seconds_count{error_type=\"local_close\", url_scheme=\"https\"}) == " + round);
                prometheus.awaitQuery("keep-alive closes by the client " + round, "sum(http_server_connection_idle_time_seconds_count{error_type=\"remote_close\"}) == " + round);
                prometheus.awaitQuery("the capped client's closes " + round, "sum(http_server_open_connections{http_connection_state=\"new\"}) == 0");
            }
        }
    }
}
