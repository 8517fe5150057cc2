package dev.connstate.monitoring;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The alert rules of {@code monitoring/prometheus/} through Debian's real {@code promtool}: they
 * parse, and their unit tests pass. {@code .ci/run} installs it when missing and sets
 * {@code -Dconnstate.tools.required=true}; elsewhere a missing {@code promtool} skips them.
 */
public class AlertRulesTest
{
    @Test
    public void promtoolChecksTheRules() throws Exception
    {
        assertPromtoolPrints(List.of("Checking " + Monitoring.RULES, "  SUCCESS: 5 rules found"), "check", "rules", Monitoring.RULES.toString());
    }

    @Test
    public void theRulesUnitTestsPass() throws Exception
    {
        assertPromtoolPrints(List.of("Unit Testing:  " + Monitoring.RULE_TESTS, "  SUCCESS"), "test", "rules", Monitoring.RULE_TESTS.toString());
    }

    /** Runs promtool with {@code arguments}: it exits 0 and prints {@code lines}, nothing else. */
    private static void assertPromtoolPrints(List<String> lines, String... arguments) throws Exception
    {
        Monitoring.assumeInstalled("promtool");
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(arguments));
        Monitoring.Run run = Monitoring.run(command.toArray(String[]::new));
        assertEquals(0, run.status(), run.output());
        assertEquals(lines, run.output().strip().lines().toList(), run.output());
    }

    /** Each alert says what it means, what to check and what to change, and names a setting to change. */
    @Test
    public void everyAlertHasItsAnnotationsAndARunbook() throws Exception
    {
        List<String> lacking = new ArrayList<>();
        for (JsonNode rule : Monitoring.rules())
        {
            JsonNode annotations = rule.path("annotations");
            for (String key : List.of("summary", "description", "runbook"))
            {
                if (annotations.path(key).asText().isBlank())
                    lacking.add(rule.path("alert").asText() + ": no " + key);
            }
            String runbook = annotations.path("runbook").asText();
            if (!(runbook.startsWith("Means: ") && runbook.contains(" Check: ") && runbook.contains(" Change: ") && runbook.contains("jetty.")))
                lacking.add(rule.path("alert").asText() + ": a runbook without Means, Check, Change and a jetty.* setting");
        }
        assertEquals(List.of(), lacking);
        assertEquals(List.of("ConnStateManySilentClients", "ConnStateKeepAliveRaces", "ConnStateIdleClosesBehindLoadBalancer",
            "ConnStateDrainForcedAtDeadline", "ConnStateListenerDrops"), List.copyOf(Monitoring.alertExpressions().keySet()));
    }

    /** The unit tests make every alert fire at least once and stay silent at least once. */
    @Test
    public void theUnitTestsSeeEveryAlertFireAndNotFire() throws Exception
    {
        List<String> firing = new ArrayList<>();
        List<String> silent = new ArrayList<>();
        for (JsonNode test : new YAMLMapper().readTree(Monitoring.RULE_TESTS.toFile()).path("tests"))
        {
            for (JsonNode check : test.path("alert_rule_test"))
                (check.path("exp_alerts").isEmpty() ? silent : firing).add(check.path("alertname").asText());
        }
        for (String alert : Monitoring.alertExpressions().keySet())
        {
            assertTrue(firing.contains(alert), alert + " never fires in " + Monitoring.RULE_TESTS);
            assertTrue(silent.contains(alert), alert + " is never checked silent in " + Monitoring.RULE_TESTS);
        }
    }
}
