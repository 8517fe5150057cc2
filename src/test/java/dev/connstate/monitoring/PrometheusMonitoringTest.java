package dev.connstate.monitoring;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.connstate.Raw;
import dev.connstate.Recorder;
import dev.connstate.Tls;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's real {@code prometheus}, started on a free loopback port, scrapes a Jetty every second
 * under a scripted load that makes every series the dashboard and the alert rules read; then
 * every query of the dashboard (its variables replaced by the label values Prometheus gives for
 * the variables' own queries, as Grafana does) and every alert rule's expression is evaluated
 * through Prometheus' HTTP API and must return data, each alert's condition true. The results go
 * to {@code target/monitoring/prometheus-expressions.md}.
 *
 * <p>The Jetty is embedded: a {@link TrackedServer} bound to Micrometer's Prometheus registry by
 * {@link ConnStateMeterBinder}, its scrape served by a second, untracked server. The second
 * server is what lets a drain be seen: a drain stops the tracked connectors from accepting, so
 * Prometheus could not scrape a server that serves its metrics on them while it drains (or
 * once it stopped), and the drain's forced closes ({@code error_type="drain_timeout"}) would never
 * reach it. Here the drain runs by hand ({@code tracker.drain}) while Prometheus scrapes the
 * other port, and the rule fires on it.</p>
 *
 * <p>What Prometheus cannot show here: an alert's {@code for} (5 and 10 minutes) does not pass
 * within a test, so the two alerts that have one are seen pending, not firing; their
 * expressions are evaluated and true.</p>
 */
public class PrometheusMonitoringTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    private static final String GET_CLOSE = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    /** Silent clients held open: one more than ConnStateManySilentClients' threshold. */
    private static final int SILENT = 101;
    private static final Path RESULTS = Path.of("target/monitoring/prometheus-expressions.md");
    /** Prometheus' own start and a few scrapes, on a loaded 2-core machine. */
    private static final Duration PROMETHEUS_TIMEOUT = Duration.ofSeconds(60);

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> results = new ArrayList<>();
    private int prometheusPort;

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
        Process prometheus = null;
        try (TrackedServer s = new TrackedServer().handler(new ConnectHandler(new TrackedServer.Hello())))
        {
            ConnStateMeterBinder binder = new ConnStateMeterBinder(s.tracker);
            binder.bindTo(registry);
            // A sink that takes the first event and never returns, with a queue of 1: every
            // later event but one is dropped.
            s.tracker.addListener("slow", Recorder.blockingUntilInterrupted(release), 1);
            ServerConnector lb = s.addConnector();
            lb.setName("lb-public");
            // Silent clients stay until the drain; the keep-alive timeout closes idle connections.
            lb.setIdleTimeout(300_000);
            ServerConnector tls = s.addTlsConnector();
            tls.setName("public-tls");
            s.tracker.getKeepAlive().setTimeoutMillis(300);
            // 127.0.0.3 may hold 2 connections that sent nothing; the silent clients' 127.0.0.2 as many as it likes.
            s.tracker.getClientLimits().setMaxNew(2);
            s.tracker.getClientLimits().setExempt("127.0.0.1,127.0.0.2");
            // The drain's deadline comes before the silent clients' grace ends: they are forced.
            s.tracker.getDrain().setNewGraceMillis(60_000);
            s.start();
            String lbPort = Integer.toString(s.port(lb));
            int metricsPort = TrackedServer.portOf(metrics);
            String instance = "127.0.0.1:" + metricsPort;

            prometheus = startPrometheus(metricsPort);
            // The drops' counter is there, at 0, before any event: its increase is seen.
            awaitQuery("the first scrape", "jetty_connstate_listener_dropped_total{jetty_connstate_listener_name=\"slow-1\"} == 0");

            // Every counter moves twice, a scrape apart: rates over a minute see each.
            for (int round = 1; round <= 2; round++)
            {
                load(s, lb, tls, metricsPort);
                awaitScrapeAfterNow();
            }
            for (int i = 0; i < SILENT; i++)
                silent.add(connectFrom("127.0.0.2", s.port(lb)));
            Wait.until(SILENT + " silent clients", () -> s.tracker.getNewConnections() == SILENT);
            awaitScrapeAfterNow();

            // The variables as Grafana fills them: label_values of each one's query.
            Map<String, List<String>> values = variableValues();
            assertEquals(Map.of("instance", List.of(instance), "port", sorted(s.port(lb), s.port(tls)),
                "connector", List.of("lb-public", "public-tls")), values);
            Map<String, String> substitutions = substitutions(values);
            double before = now();
            List<String> empty = new ArrayList<>();
            results.add("Prometheus " + prometheusVersion() + ", scraping every second; the dashboard's variables as Grafana fills them: "
                + values + ", $__rate_interval = 1m, $__interval = 15s.\n");
            results.add("## Before the drain\n");
            for (Monitoring.Query query : Monitoring.dashboardQueries())
            {
                if (evaluate(query.name(), substitute(query.expr(), substitutions), before).isEmpty())
                    empty.add(query.name());
            }
            Map<String, String> alerts = Monitoring.alertExpressions();
            Map<String, JsonNode> alertResults = new LinkedHashMap<>();
            for (Map.Entry<String, String> alert : alerts.entrySet())
                alertResults.put(alert.getKey(), evaluate("alert " + alert.getKey(), alert.getValue(), before));
            // Prometheus' own evaluation of the loaded rules: those without a for fire, the others wait.
            Map<String, String> states = awaitAlertStates(Map.of("ConnStateManySilentClients", "pending", "ConnStateKeepAliveRaces", "firing",
                "ConnStateIdleClosesBehindLoadBalancer", "pending", "ConnStateListenerDrops", "firing"));

            // The drain, while Prometheus still scrapes the metrics port.
            s.tracker.drain(1000).get(30, TimeUnit.SECONDS);
            awaitScrapeAfterNow();
            double after = now();
            results.add("\n## After the drain, forced at its deadline of 1 s\n");
            JsonNode drained = evaluate("alert ConnStateDrainForcedAtDeadline", alerts.get("ConnStateDrainForcedAtDeadline"), after);
            Map<String, String> drainState = awaitAlertStates(Map.of("ConnStateDrainForcedAtDeadline", "firing"));
            results.add("\nPrometheus' alerts: " + states + ", then " + drainState + "\n");
            writeResults();

            assertEquals(List.of(), empty, "dashboard queries without data");
            assertEquals(Map.of("ConnStateManySilentClients", 1, "ConnStateKeepAliveRaces", 1, "ConnStateIdleClosesBehindLoadBalancer", 1,
                "ConnStateDrainForcedAtDeadline", 0, "ConnStateListenerDrops", 1), sizes(alertResults), alertResults.toString());
            // Exact where the load decides: the silent clients, then each of them forced by the drain.
            assertEquals(Map.of("instance", instance, "server_port", lbPort, "jetty_connector_name", "lb-public"),
                labels(alertResults.get("ConnStateManySilentClients").get(0)));
            assertEquals(SILENT, value(alertResults.get("ConnStateManySilentClients").get(0)));
            assertEquals(1, drained.size(), drained.toString());
            assertEquals(Map.of("instance", instance, "server_port", lbPort, "jetty_connector_name", "lb-public"),
                labels(drained.get(0)));
            assertEquals(SILENT, value(drained.get(0)));
        }
        finally
        {
            release.countDown();
            for (Socket socket : silent)
                socket.close();
            if (prometheus != null)
                stop(prometheus);
            metrics.stop();
            registry.close();
        }
    }

    /**
     * One round of the load, every client on 127.0.0.1 but the capped one: keep-alive requests,
     * a close by each side, a race, TLS that succeeds and fails, a tunnel, a rejection. Each
     * connection has ended when it returns. (Waits are on the tracker's counts: the recorder
     * knows connections by client port, which two rounds, or two client addresses, may share.)
     */
    private static void load(TrackedServer s, ServerConnector lb, ServerConnector tls, int tunnelPort) throws Exception
    {
        int port = s.port(lb);
        // Two requests on one connection, closed by the client after an idle wait: remote_close,
        // requests 2, an idle wait before a request.
        try (Socket keepAlive = Raw.connect(port))
        {
            for (int i = 0; i < 2; i++)
            {
                Raw.write(keepAlive, GET);
                assertEquals("hello", Raw.read(keepAlive.getInputStream()).text());
            }
        }
        // Left idle until the server's keep-alive timeout closes it: keep_alive_timeout.
        try (Socket idle = Raw.connect(port))
        {
            Raw.write(idle, GET);
            assertEquals("hello", Raw.read(idle.getInputStream()).text());
            assertEquals(-1, idle.getInputStream().read(), "the server's FIN");
        }
        // A request sent after the server began to close: a keep-alive race.
        try (Socket racing = Raw.connect(port))
        {
            Raw.write(racing, GET);
            assertEquals("hello", Raw.read(racing.getInputStream()).text());
            assertEquals(-1, racing.getInputStream().read(), "the server's FIN");
            Raw.write(racing, GET);
            awaitNoConnection(s);
        }
        // TLS: a handshake and a request closed by the server (local_close), plain text to the TLS port.
        try (Socket secure = Tls.connect(s.port(tls)))
        {
            Raw.write(secure, GET_CLOSE);
            assertEquals("hello", Raw.read(secure.getInputStream()).text());
        }
        try (Socket plain = Raw.connect(s.port(tls)))
        {
            Raw.write(plain, GET);
            Raw.readToEnd(plain);
        }
        // A CONNECT tunnel to the metrics server: hijacked.
        try (Socket tunnel = Raw.connect(port))
        {
            String authority = "127.0.0.1:" + tunnelPort;
            Raw.write(tunnel, "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
            assertEquals(200, Raw.readHead(tunnel.getInputStream()).status());
            Wait.until("the tunnel to be hijacked", () -> s.tracker.getActiveConnections() == 0);
        }
        // A third silent connection of 127.0.0.3, over its cap of 2: refused, client_limit.
        List<Socket> capped = new ArrayList<>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                Socket socket = connectFrom("127.0.0.3", port);
                capped.add(socket);
                int held = Math.min(i + 1, 2);
                Wait.until(held + " new connections of 127.0.0.3", () -> s.tracker.getNewConnections() == held);
            }
            assertEquals(-1, capped.get(2).getInputStream().read(), "the refused connection's close");
        }
        finally
        {
            for (Socket socket : capped)
                socket.close();
        }
        awaitNoConnection(s);
        s.recorder.removeEnded();
    }

    private static void awaitNoConnection(TrackedServer s)
    {
        Wait.until("every connection to end", () -> s.tracker.getTrackedConnections() == 0);
    }

    private static Socket connectFrom(String address, int port) throws IOException
    {
        Socket socket = new Socket();
        socket.bind(new java.net.InetSocketAddress(address, 0));
        socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 10_000);
        socket.setSoTimeout(10_000);
        return socket;
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

    // ---- Prometheus ----

    /** Starts Prometheus scraping {@code 127.0.0.1:metricsPort} every second with the alert rules loaded; waits until it is ready. */
    private Process startPrometheus(int metricsPort) throws Exception
    {
        Path config = dir.resolve("prometheus.yml");
        Files.writeString(config, """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            rule_files:
              - %s
            scrape_configs:
              - job_name: jetty
                static_configs:
                  - targets: ['127.0.0.1:%d']
            """.formatted(Monitoring.RULES.toAbsolutePath(), metricsPort));
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress()))
        {
            prometheusPort = free.getLocalPort();
        }
        Files.createDirectories(RESULTS.getParent());
        Process process = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
            "--web.listen-address=127.0.0.1:" + prometheusPort)
            .redirectErrorStream(true)
            .redirectOutput(RESULTS.resolveSibling("prometheus.log").toFile())
            .start();
        try
        {
            Wait.until("Prometheus on port " + prometheusPort + " to be ready (target/monitoring/prometheus.log)", PROMETHEUS_TIMEOUT,
                () -> process.isAlive() && ready());
            return process;
        }
        catch (AssertionError | RuntimeException x)
        {
            stop(process);
            throw x;
        }
    }

    private boolean ready()
    {
        try
        {
            return get("/-/ready").statusCode() == 200;
        }
        catch (IOException x)
        {
            return false;
        }
    }

    private static void stop(Process process) throws InterruptedException
    {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException
    {
        try
        {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + prometheusPort + pathAndQuery)).timeout(Duration.ofSeconds(10)).build();
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
            throw new IOException(x);
        }
    }

    /** The {@code data} of a successful API answer. */
    private JsonNode api(String pathAndQuery)
    {
        try
        {
            HttpResponse<String> response = get(pathAndQuery);
            JsonNode body = json.readTree(response.body());
            assertEquals("success", body.path("status").asText(), () -> pathAndQuery + ": " + response.body());
            return body.path("data");
        }
        catch (IOException x)
        {
            throw new AssertionError(pathAndQuery, x);
        }
    }

    /** The instant vector {@code expr} gives at {@code time} (seconds), recorded in the results. */
    private JsonNode evaluate(String name, String expr, double time)
    {
        JsonNode data = api("/api/v1/query?query=" + encode(expr) + "&time=" + time);
        assertEquals("vector", data.path("resultType").asText(), expr);
        JsonNode result = data.path("result");
        StringBuilder line = new StringBuilder("- **" + name + "**\n  `" + expr.replaceAll("\\s+", " ") + "`\n  → ");
        if (result.isEmpty())
            line.append("(no data)");
        for (JsonNode sample : result)
            line.append("\n    ").append(labels(sample)).append(' ').append(sample.path("value").get(1).asText());
        results.add(line.toString());
        return result;
    }

    private JsonNode query(String expr)
    {
        return api("/api/v1/query?query=" + encode(expr)).path("result");
    }

    private void awaitQuery(String what, String expr)
    {
        Wait.until(what + " (" + expr + ")", PROMETHEUS_TIMEOUT, () -> query(expr), result -> !result.isEmpty());
    }

    /** Waits until Prometheus has scraped the metrics from a scrape begun after now. */
    private void awaitScrapeAfterNow()
    {
        double now = now();
        // timestamp() of a selector is its sample's, the scrape's start (of an expression it would be the evaluation's).
        awaitQuery("a scrape after " + now, "up{job=\"jetty\"} == 1 and timestamp(up{job=\"jetty\"}) > " + now);
    }

    private static double now()
    {
        return System.currentTimeMillis() / 1000.0;
    }

    private String prometheusVersion()
    {
        return api("/api/v1/status/buildinfo").path("version").asText();
    }

    /** Waits until Prometheus' own rule evaluation has each alert in its state; returns them all. */
    private Map<String, String> awaitAlertStates(Map<String, String> expected)
    {
        return Wait.until("the alerts " + expected, PROMETHEUS_TIMEOUT, () ->
        {
            Map<String, String> states = new LinkedHashMap<>();
            for (JsonNode alert : api("/api/v1/alerts").path("alerts"))
                states.put(alert.path("labels").path("alertname").asText(), alert.path("state").asText());
            return states;
        }, states -> states.entrySet().containsAll(expected.entrySet()));
    }

    /** Each variable's values, from its own {@code label_values(selector, label)} query, the variables before it filled in. */
    private Map<String, List<String>> variableValues() throws IOException
    {
        Map<String, List<String>> values = new LinkedHashMap<>();
        Pattern labelValues = Pattern.compile("label_values\\((.+), ([a-z_]+)\\)");
        for (JsonNode variable : Monitoring.dashboard().path("templating").path("list"))
        {
            Matcher m = labelValues.matcher(variable.path("definition").asText());
            assertTrue(m.matches(), variable.path("definition").asText());
            String selector = substitute(m.group(1), substitutions(values));
            List<String> found = new ArrayList<>();
            api("/api/v1/label/" + m.group(2) + "/values?match[]=" + encode(selector)).forEach(v -> found.add(v.asText()));
            values.put(variable.path("name").asText(), found);
        }
        return values;
    }

    /** What Grafana puts for each variable with every value picked, {@code (a|b)}, and for its intervals. */
    private static Map<String, String> substitutions(Map<String, List<String>> values)
    {
        Map<String, String> substitutions = new LinkedHashMap<>();
        // The longest names first: $__rate_interval before $__interval.
        substitutions.put("$__rate_interval", "1m");
        substitutions.put("$__interval", "15s");
        values.forEach((name, each) -> substitutions.put("$" + name, each.size() == 1 ? each.get(0) : "(" + String.join("|", each) + ")"));
        return substitutions;
    }

    private static String substitute(String expr, Map<String, String> substitutions)
    {
        String result = expr;
        for (Map.Entry<String, String> s : substitutions.entrySet())
            result = result.replace(s.getKey(), s.getValue());
        return result;
    }

    private void writeResults() throws IOException
    {
        Files.createDirectories(RESULTS.getParent());
        Files.writeString(RESULTS, "# Every expression of monitoring/ on a real Prometheus\n\n" + String.join("\n", results) + "\n");
    }

    private static Map<String, String> labels(JsonNode sample)
    {
        Map<String, String> labels = new LinkedHashMap<>();
        sample.path("metric").fields().forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
        return labels;
    }

    private static int value(JsonNode sample)
    {
        return (int)Double.parseDouble(sample.path("value").get(1).asText());
    }

    private static Map<String, Integer> sizes(Map<String, JsonNode> results)
    {
        Map<String, Integer> sizes = new LinkedHashMap<>();
        results.forEach((name, result) -> sizes.put(name, result.size()));
        return sizes;
    }

    private static List<String> sorted(int... ports)
    {
        return java.util.Arrays.stream(ports).mapToObj(Integer::toString).sorted().toList();
    }

    private static String encode(String s)
    {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
