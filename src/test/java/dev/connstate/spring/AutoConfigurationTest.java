package dev.connstate.spring;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.stress.JsonLinesCheck;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jetty.servlet.JettyServletWebServerFactory;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * When the auto-configuration is on and what it makes, without starting a server; and the
 * properties' metadata, as an IDE reads it.
 */
public class AutoConfigurationTest
{
    private static final List<Class<?>> BEANS = List.of(ConnStateServerCustomizer.class, GracefulDrain.class, TrackerStop.class, ConnStateMeters.class, ConnStateEndpoint.class);

    private final WebApplicationContextRunner runner = new WebApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(ConnStateAutoConfiguration.class, ConnStateMetricsAutoConfiguration.class, ConnStateEndpointAutoConfiguration.class));

    private static List<String> made(WebApplicationContextRunner runner)
    {
        Map<String, Integer> counts = new LinkedHashMap<>();
        runner.run(context ->
        {
            if (context.getStartupFailure() != null)
                throw new AssertionError(context.getStartupFailure());
            for (Class<?> type : BEANS)
                counts.put(type.getSimpleName(), context.getBeansOfType(type).size());
        });
        return counts.entrySet().stream().filter(e -> e.getValue() == 1).map(Map.Entry::getKey).toList();
    }

    @Test
    public void onJettyEverythingButTheEndpointWhichIsNotExposedByDefault()
    {
        assertEquals(List.of("ConnStateServerCustomizer", "GracefulDrain", "TrackerStop", "ConnStateMeters"),
            made(runner.withBean(JettyServletWebServerFactory.class)));
    }

    @Test
    public void theEndpointWhereItIsExposed()
    {
        assertEquals(List.of("ConnStateServerCustomizer", "GracefulDrain", "TrackerStop", "ConnStateMeters", "ConnStateEndpoint"),
            made(runner.withBean(JettyServletWebServerFactory.class).withPropertyValues("management.endpoints.web.exposure.include=connstate")));
    }

    @Test
    public void nothingWhenTurnedOffOrNotOnJetty()
    {
        assertEquals(List.of(), made(runner.withBean(JettyServletWebServerFactory.class).withPropertyValues("connstate.enabled=false")));
        assertEquals(List.of(), made(runner));
    }

    @Test
    public void noDrainWhenTheShutdownIsImmediateOrTheDrainOff()
    {
        assertEquals(List.of("ConnStateServerCustomizer", "TrackerStop", "ConnStateMeters"),
            made(runner.withBean(JettyServletWebServerFactory.class).withPropertyValues("server.shutdown=immediate")));
        assertEquals(List.of("ConnStateServerCustomizer", "TrackerStop", "ConnStateMeters"),
            made(runner.withBean(JettyServletWebServerFactory.class).withPropertyValues("connstate.drain.enabled=false")));
    }

    /** {@code connstate.keep-alive-timeout} reaches the tracker made when Boot builds its server; unset, it is off. */
    @Test
    public void theKeepAliveTimeoutReachesTheTracker()
    {
        Map<String, Long> timeouts = new LinkedHashMap<>();
        for (String value : new String[]{"75s", null})
        {
            WebApplicationContextRunner jetty = runner.withBean(JettyServletWebServerFactory.class);
            if (value != null)
                jetty = jetty.withPropertyValues("connstate.keep-alive-timeout=" + value);
            jetty.run(context ->
            {
                if (context.getStartupFailure() != null)
                    throw new AssertionError(context.getStartupFailure());
                ConnStateServerCustomizer customizer = context.getBean(ConnStateServerCustomizer.class);
                // What Boot does when it builds its Jetty server (not started here).
                customizer.customize(new Server());
                timeouts.put(String.valueOf(value), customizer.tracker().getKeepAlive().getTimeoutMillis());
            });
        }
        assertEquals(Map.of("75s", 75000L, "null", 0L), timeouts);
    }

    /**
     * {@code connstate.request-header-timeout} and {@code connstate.client.*} reach the tracker
     * made when Boot builds its server; unset, they are off.
     */
    @Test
    public void theProtectionSettingsReachTheTracker()
    {
        Map<String, List<Object>> made = new LinkedHashMap<>();
        for (String[] values : new String[][]{
            {"connstate.request-header-timeout=10s", "connstate.client.max-connections=100", "connstate.client.max-new=10",
                "connstate.client.exempt=10.0.0.0/8, 192.168.0.1-192.168.0.9"},
            {"connstate.request-header-timeout=2500"},
            {}})
        {
            runner.withBean(JettyServletWebServerFactory.class).withPropertyValues(values).run(context ->
            {
                if (context.getStartupFailure() != null)
                    throw new AssertionError(context.getStartupFailure());
                ConnStateServerCustomizer customizer = context.getBean(ConnStateServerCustomizer.class);
                // What Boot does when it builds its Jetty server (not started here).
                customizer.customize(new Server());
                ConnStateTracker tracker = customizer.tracker();
                made.put(String.join(" ", values), List.of(tracker.getRequestHeaderTimeout().getTimeoutMillis(),
                    tracker.getClientLimits().getMaxConnections(), tracker.getClientLimits().getMaxNew(), tracker.getClientLimits().getExempt()));
            });
        }
        assertEquals(List.of(
            List.of(10000L, 100, 10, "10.0.0.0/8,192.168.0.1-192.168.0.9"),
            List.of(2500L, 0, 0, ""),
            List.of(0L, 0, 0, "")), List.copyOf(made.values()));
    }

    /** Every property is described, with the default the code has. */
    @Test
    public void theMetadataGivesEveryPropertyAndItsDefault() throws Exception
    {
        String json;
        try (InputStream in = getClass().getClassLoader().getResourceAsStream("META-INF/spring-configuration-metadata.json"))
        {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Map<String, Object> metadata = JsonLinesCheck.parseObject(json, "the metadata");
        Map<String, Object> defaults = new LinkedHashMap<>();
        for (Object item : (Object[])metadata.get("properties"))
        {
            @SuppressWarnings("unchecked")
            Map<String, Object> property = (Map<String, Object>)item;
            String name = (String)property.get("name");
            if (name.startsWith("connstate."))
            {
                assertEquals(false, ((String)property.get("description")).isBlank(), name);
                Object value = property.get("defaultValue");
                defaults.put(name, value instanceof Object[] array ? List.of(array) : value);
            }
        }
        ConnStateProperties code = new ConnStateProperties();
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("connstate.client.exempt", code.getClient().getExempt());
        expected.put("connstate.client.max-connections", (long)code.getClient().getMaxConnections());
        expected.put("connstate.client.max-new", (long)code.getClient().getMaxNew());
        expected.put("connstate.connlog.append", code.getConnlog().isAppend());
        expected.put("connstate.connlog.file", code.getConnlog().getFile());
        expected.put("connstate.connlog.filename-date-format", code.getConnlog().getFilenameDateFormat());
        expected.put("connstate.connlog.retain-days", (long)code.getConnlog().getRetainDays());
        expected.put("connstate.connlog.rollover.timezone", code.getConnlog().getRollover().getTimezone());
        expected.put("connstate.drain.enabled", code.getDrain().isEnabled());
        expected.put("connstate.drain.new-grace", code.getDrain().getNewGrace().toSeconds() + "s");
        expected.put("connstate.enabled", code.isEnabled());
        expected.put("connstate.jsonl.append", code.getJsonl().isAppend());
        expected.put("connstate.jsonl.file", code.getJsonl().getFile());
        expected.put("connstate.jsonl.filename-date-format", code.getJsonl().getFilenameDateFormat());
        expected.put("connstate.jsonl.retain-days", (long)code.getJsonl().getRetainDays());
        expected.put("connstate.jsonl.rollover.timezone", code.getJsonl().getRollover().getTimezone());
        expected.put("connstate.keep-alive-timeout", code.getKeepAliveTimeout()); // none: off
        expected.put("connstate.log.format", code.getLog().getFormat());
        expected.put("connstate.log.logger", code.getLog().getLogger());
        expected.put("connstate.queue.capacity", (long)code.getQueue().getCapacity());
        expected.put("connstate.request-header-timeout", code.getRequestHeaderTimeout()); // none: off
        expected.put("connstate.sinks", code.getSinks());
        expected.put("connstate.status.max-rows", (long)code.getStatus().getMaxRows());
        assertEquals(expected, defaults);
    }
}
