package dev.connstate.monitoring;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana dashboard of {@code monitoring/grafana/}: importable (valid JSON, a data source
 * input and no data source of anyone's own), its three variables on our labels, every query
 * filtered by all three, and every name it reads, and every name the alert rules read, one
 * that docs/metrics.md says we produce. {@link PrometheusMonitoringTest} runs them on real data.
 */
public class DashboardTest
{
    @Test
    public void itAsksForItsPrometheusWhenImported() throws Exception
    {
        JsonNode dashboard = Monitoring.dashboard();
        JsonNode inputs = dashboard.path("__inputs");
        assertEquals(1, inputs.size(), inputs.toString());
        assertEquals("DS_PROMETHEUS", inputs.get(0).path("name").asText());
        assertEquals("datasource", inputs.get(0).path("type").asText());
        assertEquals("prometheus", inputs.get(0).path("pluginId").asText());
        // Grafana 11 and 12 write 39 to 41; an older number makes Grafana migrate the panels on import.
        assertTrue(dashboard.path("schemaVersion").asInt() >= 39, "schemaVersion " + dashboard.path("schemaVersion"));
        List<String> dataSources = new ArrayList<>();
        collectDataSources(dashboard, dataSources);
        assertFalse(dataSources.isEmpty());
        assertEquals(Set.of("{\"type\":\"prometheus\",\"uid\":\"${DS_PROMETHEUS}\"}"), Set.copyOf(dataSources));
    }

    @Test
    public void itsVariablesAreInstancePortAndConnector() throws Exception
    {
        List<String> names = new ArrayList<>();
        for (JsonNode variable : Monitoring.dashboard().path("templating").path("list"))
        {
            String name = variable.path("name").asText();
            names.add(name);
            // label_values(<selector>, <label>): the label is the variable's.
            String definition = variable.path("definition").asText();
            assertTrue(definition.matches("label_values\\(http_server_open_connections(\\{.*})?, " + Monitoring.VARIABLE_LABELS.get(name) + "\\)"), definition);
            // All is every value, an unnamed connector's missing label too.
            assertTrue(variable.path("includeAll").asBoolean() && variable.path("multi").asBoolean(), name);
            assertEquals(".*", variable.path("allValue").asText(), name);
        }
        assertEquals(Monitoring.VARIABLES, names);
    }

    /**
     * Every selector of every query filters on the three variables. The whole server's series
     * (handshakes in progress, listener drops) have no port and no connector, and match those
     * variables or their absence ({@code "$port|"}).
     */
    @Test
    public void everyQueryFiltersOnTheThreeVariables() throws Exception
    {
        List<Monitoring.Query> queries = Monitoring.dashboardQueries();
        assertEquals(22, queries.size(), () -> queries.stream().map(Monitoring.Query::name).toList().toString());
        List<String> unfiltered = new ArrayList<>();
        for (Monitoring.Query query : queries)
        {
            List<String[]> selectors = Monitoring.selectors(query.expr());
            if (selectors.isEmpty())
                unfiltered.add(query.name() + ": no selector in " + query.expr());
            for (String[] selector : selectors)
            {
                for (String variable : Monitoring.VARIABLES)
                {
                    String label = Monitoring.VARIABLE_LABELS.get(variable);
                    if (!selector[1].contains(label + "=~\"$" + variable + "\"") && !selector[1].contains(label + "=~\"$" + variable + "|\""))
                        unfiltered.add(query.name() + ": " + selector[0] + " not filtered on $" + variable);
                }
            }
            assertEquals(Monitoring.metricNames(query.expr()).size(), Set.copyOf(selectors.stream().map(s -> s[0]).toList()).size(),
                () -> query.name() + ": a name selected without braces in " + query.expr());
        }
        assertEquals(List.of(), unfiltered);
    }

    @Test
    public void itHasThePanelsOfIssue24() throws Exception
    {
        List<String> titles = new ArrayList<>();
        for (JsonNode panel : Monitoring.dashboard().path("panels"))
        {
            if (!panel.path("type").asText().equals("row"))
                titles.add(panel.path("title").asText());
        }
        assertEquals(List.of("Connections by state", "Closes per second by reason", "Connection duration", "Requests per connection",
            "Time to first request", "Closed without a request, per second by reason", "Idle time before the next request or the close",
            "Idle closes per second by who closed", "TLS handshake duration", "TLS handshake failures per second by reason",
            "TLS handshakes in progress", "Hijacks per second", "Keep-alive races", "Rejections per second", "Listener drops"), titles);
    }

    /** The names the dashboard and the rules read are all in docs/metrics.md's table, and together read every one of them. */
    @Test
    public void everyNameReadIsOneWeProduce() throws Exception
    {
        Set<String> documented = Monitoring.documentedPrometheusNames();
        Set<String> dashboardNames = new TreeSet<>();
        for (Monitoring.Query query : Monitoring.dashboardQueries())
            dashboardNames.addAll(Monitoring.metricNames(query.expr()));
        Set<String> ruleNames = new TreeSet<>();
        for (String expr : Monitoring.alertExpressions().values())
            ruleNames.addAll(Monitoring.metricNames(expr));
        assertUnknown(dashboardNames, documented, "the dashboard");
        assertUnknown(ruleNames, documented, "the alert rules");
        // A histogram is read through its _bucket, _count or _sum: every instrument is read one way or another.
        Set<String> unread = families(documented);
        unread.removeAll(families(dashboardNames));
        unread.removeAll(families(ruleNames));
        assertEquals(Set.of(), unread, "instruments neither the dashboard nor the rules read");
    }

    /** The names without a histogram's suffix: one per instrument. */
    private static Set<String> families(Set<String> names)
    {
        Set<String> families = new TreeSet<>();
        names.forEach(name -> families.add(name.replaceAll("_(bucket|count|sum)$", "")));
        return families;
    }

    private static void assertUnknown(Set<String> used, Set<String> documented, String where)
    {
        assertFalse(used.isEmpty(), where);
        Set<String> unknown = new TreeSet<>(used);
        unknown.removeAll(documented);
        assertEquals(Set.of(), unknown, "names " + where + " reads that docs/metrics.md does not list: " + documented);
    }

    /** Every value of a key "datasource", anywhere in the dashboard. */
    private static void collectDataSources(JsonNode node, List<String> found)
    {
        node.fields().forEachRemaining(field ->
        {
            if (field.getKey().equals("datasource"))
                found.add(field.getValue().toString());
            else
                collectDataSources(field.getValue(), found);
        });
        if (node.isArray())
            node.forEach(element -> collectDataSources(element, found));
    }
}
