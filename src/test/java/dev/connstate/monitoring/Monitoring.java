package dev.connstate.monitoring;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.connstate.Tools;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The files of {@code monitoring/} as the tests read them: the dashboard's queries, the alert
 * rules' expressions, the Prometheus names docs/metrics.md promises, and Debian's
 * {@code prometheus} and {@code promtool}, run for real.
 */
public final class Monitoring
{
    public static final Path DASHBOARD = Path.of("monitoring/grafana/connstate.json");
    public static final Path RULES = Path.of("monitoring/prometheus/connstate-alerts.yml");
    public static final Path RULE_TESTS = Path.of("monitoring/prometheus/connstate-alerts.test.yml");
    public static final Path METRICS_PAGE = Path.of("docs/metrics.md");
    /** The dashboard's variables, as its queries use them. */
    public static final List<String> VARIABLES = List.of("instance", "port", "connector");
    /** The label each variable filters on. */
    public static final Map<String, String> VARIABLE_LABELS = Map.of("instance", "instance", "port", "server_port", "connector", "jetty_connector_name");

    /** A metric name of ours: the names of docs/metrics.md begin so (labels too, but they never stand before a selector). */
    private static final Pattern METRIC = Pattern.compile("\\b((?:http_server|jetty_connstate)_[a-z_]+)\\s*(?=[{\\[])");
    /** A selector's braces. */
    private static final Pattern SELECTOR = Pattern.compile("\\b((?:http_server|jetty_connstate)_[a-z_]+)\\{([^}]*)}");

    private Monitoring()
    {
    }

    public static JsonNode dashboard() throws IOException
    {
        return new ObjectMapper().readTree(DASHBOARD.toFile());
    }

    /** Every query of every panel of the dashboard, in order, with its panel's title. */
    public static List<Query> dashboardQueries() throws IOException
    {
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : dashboard().path("panels"))
        {
            for (JsonNode target : panel.path("targets"))
                queries.add(new Query(panel.path("title").asText() + " / " + target.path("legendFormat").asText(), target.path("expr").asText()));
        }
        return queries;
    }

    /** Every rule of every group of the alert rules, in the file's order. */
    public static List<JsonNode> rules() throws IOException
    {
        List<JsonNode> rules = new ArrayList<>();
        for (JsonNode group : new YAMLMapper().readTree(RULES.toFile()).path("groups"))
            group.path("rules").forEach(rules::add);
        return rules;
    }

    /** Every alert rule's expression, by its alert's name, in the file's order. */
    public static Map<String, String> alertExpressions() throws IOException
    {
        Map<String, String> alerts = new LinkedHashMap<>();
        for (JsonNode rule : rules())
            alerts.put(rule.path("alert").asText(), rule.path("expr").asText().strip());
        return alerts;
    }

    /** The metric names an expression selects, in order of first use. */
    public static Set<String> metricNames(String expr)
    {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(expr);
        while (m.find())
            names.add(m.group(1));
        return names;
    }

    /** Each selector of an expression: its metric name and the text between its braces. */
    public static List<String[]> selectors(String expr)
    {
        List<String[]> selectors = new ArrayList<>();
        Matcher m = SELECTOR.matcher(expr);
        while (m.find())
            selectors.add(new String[]{m.group(1), m.group(2)});
        return selectors;
    }

    /**
     * The names Prometheus shows for our instruments, from the table "Names in Prometheus" of
     * docs/metrics.md: a histogram's {@code _bucket}, {@code _count} and {@code _sum}, a counter's {@code _total}.
     */
    public static Set<String> documentedPrometheusNames() throws IOException
    {
        String page = Files.readString(METRICS_PAGE, StandardCharsets.UTF_8);
        int table = page.indexOf("### Names in Prometheus");
        assertTrue(table >= 0, "docs/metrics.md has no table of Prometheus names");
        Set<String> names = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `[a-z_.]+` \\| (.+) \\|$").matcher(page.substring(table));
        while (row.find())
        {
            Matcher name = Pattern.compile("`([a-z_]+)`").matcher(row.group(1));
            String base = null;
            while (name.find())
            {
                String each = name.group(1);
                if (each.startsWith("_"))
                    names.add(base + each);
                else
                {
                    names.add(each);
                    base = each.endsWith("_bucket") ? each.substring(0, each.length() - "_bucket".length()) : each;
                }
            }
        }
        return names;
    }

    /** {@link Tools#assumeInstalled}: both tools are Debian's package prometheus. */
    public static void assumeInstalled(String tool)
    {
        Tools.assumeInstalled(tool, "prometheus");
    }

    /** What a command printed (stdout and stderr) and its exit status. */
    public record Run(int status, String output)
    {
    }

    /** Runs {@code command} in the project's directory, for at most a minute. */
    public static Run run(String... command) throws IOException, InterruptedException
    {
        Path output = Files.createTempFile("connstate-monitoring", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try
        {
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), () -> String.join(" ", command) + " did not end within a minute");
            return new Run(p.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
        }
        finally
        {
            p.destroyForcibly();
            Files.deleteIfExists(output);
        }
    }

    /** One query of the dashboard, named by its panel and legend. */
    public record Query(String name, String expr)
    {
    }
}
