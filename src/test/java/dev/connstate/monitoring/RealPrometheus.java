package dev.connstate.monitoring;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
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
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.connstate.Wait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Debian's real {@code prometheus}, run by a test on a free loopback port with a TSDB of its own,
 * scraping one target every second with the alert rules of {@code monitoring/} loaded; and what
 * the test asks it through its HTTP API. Every expression evaluated is recorded with its result,
 * for {@link #writeResults}. {@link #close()} kills it.
 */
public final class RealPrometheus implements AutoCloseable
{
    /** Prometheus' own start and a few scrapes, on a loaded 2-core machine. */
    public static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<String> results = new ArrayList<>();
    private final Process process;
    private final int port;

    private RealPrometheus(Process process, int port)
    {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts Prometheus and waits until it is ready.
     *
     * @param dir a directory of its own, for its configuration and its TSDB
     * @param target {@code host:port} to scrape
     * @param metricsPath the path of the target's metrics
     * @param log where its output goes
     */
    public static RealPrometheus start(Path dir, String target, String metricsPath, Path log) throws IOException
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
                metrics_path: %s
                static_configs:
                  - targets: ['%s']
            """.formatted(Monitoring.RULES.toAbsolutePath(), metricsPath, target));
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            port = free.getLocalPort();
        }
        Files.createDirectories(log.getParent());
        Process process = new ProcessBuilder("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.resolve("data"),
            "--web.listen-address=127.0.0.1:" + port)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
        RealPrometheus prometheus = new RealPrometheus(process, port);
        try
        {
            Wait.until("Prometheus on port " + port + " to be ready (its output in " + log + ")", TIMEOUT,
                () -> process.isAlive() && prometheus.ready());
            return prometheus;
        }
        catch (AssertionError | RuntimeException x)
        {
            prometheus.close();
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

    /** Stops it: SIGTERM, then SIGKILL if it has not ended within 10 s. */
    @Override
    public void close()
    {
        process.destroy();
        try
        {
            if (!process.waitFor(10, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (InterruptedException x)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    public String version()
    {
        return api("/api/v1/status/buildinfo").path("version").asText();
    }

    /** The instant vector {@code expr} gives now. */
    public JsonNode query(String expr)
    {
        return api("/api/v1/query?query=" + encode(expr)).path("result");
    }

    /** Waits until {@code expr} gives data. */
    public void awaitQuery(String what, String expr)
    {
        Wait.until(what + " (" + expr + ")", TIMEOUT, () -> query(expr), result -> !result.isEmpty());
    }

    /** Waits until Prometheus has the target's metrics from a scrape begun after now. */
    public void awaitScrapeAfterNow()
    {
        double now = now();
        // timestamp() of a selector is its sample's, the scrape's start (of an expression it would be the evaluation's).
        awaitQuery("a scrape after " + now, "up{job=\"jetty\"} == 1 and timestamp(up{job=\"jetty\"}) > " + now);
    }

    /** Now, in Prometheus' seconds. */
    public static double now()
    {
        return System.currentTimeMillis() / 1000.0;
    }

    /** Waits until Prometheus' own evaluation of the rules has each alert in its state; returns all alerts' states. */
    public Map<String, String> awaitAlertStates(Map<String, String> expected)
    {
        return Wait.until("the alerts " + expected, TIMEOUT, () ->
        {
            Map<String, String> states = new LinkedHashMap<>();
            for (JsonNode alert : api("/api/v1/alerts").path("alerts"))
                states.put(alert.path("labels").path("alertname").asText(), alert.path("state").asText());
            return states;
        }, states -> states.entrySet().containsAll(expected.entrySet()));
    }

    /**
     * Each variable of the dashboard's values, as Grafana gets them: its own
     * {@code label_values(selector, label)} query, the variables before it filled in.
     */
    public Map<String, List<String>> variableValues() throws IOException
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

    /**
     * What Grafana puts for each variable with every value picked ({@code a}, or {@code (a|b)}),
     * or All ({@code .*}, the dashboard's allValue) for one without values, and for its intervals.
     */
    public static Map<String, String> substitutions(Map<String, List<String>> values)
    {
        Map<String, String> substitutions = new LinkedHashMap<>();
        // The longest names first: $__rate_interval before $__interval.
        substitutions.put("$__rate_interval", "1m");
        substitutions.put("$__interval", "15s");
        values.forEach((name, each) -> substitutions.put("$" + name,
            each.isEmpty() ? ".*" : each.size() == 1 ? each.get(0) : "(" + String.join("|", each) + ")"));
        return substitutions;
    }

    public static String substitute(String expr, Map<String, String> substitutions)
    {
        String result = expr;
        for (Map.Entry<String, String> s : substitutions.entrySet())
            result = result.replace(s.getKey(), s.getValue());
        return result;
    }

    /**
     * Evaluates every query of the dashboard at {@code time}, its variables replaced.
     *
     * @return the names of the queries that gave no data
     */
    public List<String> evaluateDashboard(Map<String, String> substitutions, double time) throws IOException
    {
        List<String> empty = new ArrayList<>();
        for (Monitoring.Query query : Monitoring.dashboardQueries())
        {
            if (evaluate(query.name(), substitute(query.expr(), substitutions), time).isEmpty())
                empty.add(query.name());
        }
        return empty;
    }

    /** The instant vector {@code expr} gives at {@code time} (seconds), recorded in the results. */
    public JsonNode evaluate(String name, String expr, double time)
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

    /** Adds a line of text to the results. */
    public void note(String text)
    {
        results.add(text);
    }

    /** Writes what was evaluated, with its results, to {@code file} (Markdown). */
    public void writeResults(Path file, String title) throws IOException
    {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "# " + title + "\n\n" + String.join("\n", results) + "\n");
    }

    /** A sample's labels. */
    public static Map<String, String> labels(JsonNode sample)
    {
        Map<String, String> labels = new LinkedHashMap<>();
        sample.path("metric").fields().forEachRemaining(f -> labels.put(f.getKey(), f.getValue().asText()));
        return labels;
    }

    /** Ports as Prometheus lists a label's values: strings, sorted as strings. */
    public static List<String> labelValues(int... ports)
    {
        return java.util.Arrays.stream(ports).mapToObj(Integer::toString).sorted().toList();
    }

    /** A sample's value, as a whole number. */
    public static long value(JsonNode sample)
    {
        return Math.round(Double.parseDouble(sample.path("value").get(1).asText()));
    }

    private HttpResponse<String> get(String pathAndQuery) throws IOException
    {
        try
        {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery)).timeout(Duration.ofSeconds(10)).build();
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

    private static String encode(String s)
    {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
