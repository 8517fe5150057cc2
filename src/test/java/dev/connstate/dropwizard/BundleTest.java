package dev.connstate.dropwizard;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.connstate.CloseReason;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.Recorder;
import dev.connstate.Wait;
import dev.connstate.config.ConnLogFile;
import io.dropwizard.configuration.ConfigurationParsingException;
import io.dropwizard.configuration.ConfigurationValidationException;
import io.dropwizard.configuration.YamlConfigurationFactory;
import io.dropwizard.core.Configuration;
import io.dropwizard.core.setup.Bootstrap;
import io.dropwizard.core.setup.Environment;
import io.dropwizard.jackson.Jackson;
import io.dropwizard.jersey.validation.Validators;
import jakarta.validation.Valid;
import jakarta.validation.constraints.NotNull;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.ajax.JSON;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A real Dropwizard 5 application with the bundle, configured by its own YAML: one connection's
 * exact sequence, in the jsonl file the YAML names and in the metrics, and its record in the
 * connlog file; a bad value refused by Dropwizard's validation, naming the field.
 */
public class BundleTest
{
    /** The application's configuration: Dropwizard's, and the {@code connstate:} block. */
    public static class HelloConfiguration extends Configuration
    {
        @Valid
        @NotNull
        @JsonProperty
        private ConnStateFactory connstate = new ConnStateFactory();

        public ConnStateFactory getConnstate()
        {
            return connstate;
        }
    }

    /** The application, with the bundle. */
    public static class HelloApplication extends TestApplication<HelloConfiguration>
    {
        final ConnStateBundle<HelloConfiguration> bundle = new ConnStateBundle<>(HelloConfiguration::getConnstate);
        volatile MetricRegistry metrics;

        @Override
        public void initialize(Bootstrap<HelloConfiguration> bootstrap)
        {
            bootstrap.addBundle(bundle);
        }

        @Override
        protected void configure(HelloConfiguration configuration, Environment environment)
        {
            metrics = environment.metrics();
        }
    }

    @TempDir
    java.nio.file.Path dir;

    @Test
    public void oneConnectionsSequenceInTheYamlsSinkAndTheMetrics() throws Exception
    {
        java.nio.file.Path jsonl = dir.resolve("logs/connstate.jsonl");
        java.nio.file.Path connlog = dir.resolve("connlogs/connections.jsonl");
        java.nio.file.Path config = dir.resolve("config.yml");
        Files.writeString(config, TestApplication.SERVER + """
            connstate:
              sinks: [jsonl, connlog]
              jsonl:
                file: %s
              connlog:
                file: %s
                retainDays: 7
                rollover:
                  timezone: UTC
              queue:
                capacity: 64
              keepAliveTimeout: 75s
              requestHeaderTimeout: 10s
              client:
                maxConnections: 100
                maxNew: 10
                exempt: [10.0.0.0/8, 192.168.0.1-192.168.0.9]
              drain:
                newGrace: 2s
            """.formatted(jsonl, connlog));
        HelloApplication application = new HelloApplication();
        application.run("server", config.toString());
        try
        {
            Wait.until("Dropwizard's server to start", () -> application.server != null);
            Recorder recorder = new Recorder();
            application.bundle.getTracker().addInlineListener(recorder);
            assertEquals(2000, application.bundle.getTracker().getDrain().getNewGraceMillis());
            assertEquals(75000, application.bundle.getTracker().getKeepAlive().getTimeoutMillis());
            assertEquals(10000, application.bundle.getTracker().getRequestHeaderTimeout().getTimeoutMillis());
            assertEquals(100, application.bundle.getTracker().getClientLimits().getMaxConnections());
            assertEquals(10, application.bundle.getTracker().getClientLimits().getMaxNew());
            assertEquals("10.0.0.0/8,192.168.0.1-192.168.0.9", application.bundle.getTracker().getClientLimits().getExempt());
            assertEquals(List.of("jsonl", "connlog"), application.bundle.getTracker().getQueuedListeners().stream().map(q -> q.getName().replaceFirst("-[0-9]+$", "")).toList());
            int port = ((NetworkConnector)application.server.getConnectors()[0]).getLocalPort();
            try (RawClient c = new RawClient(recorder, Raw.connect(port)))
            {
                assertEquals("hello", c.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200).text());
                // The servlet container completes the request after the client has the response.
                c.awaitSequence("new", "active", "idle");
                assertEquals(Map.of("new", 0L, "active", 0L, "idle", 1L, "opened", 1L, "closed", 0L, "hijacked", 0L, "requests", 1L), gauges(application.metrics));
                c.close();
                c.assertSequence("new", "active", "idle", "closed");
                assertEquals(CloseReason.REMOTE_CLOSE, c.reason());
            }
            Wait.until("the closed line in the file", () -> states(jsonl).size() == 4);
            assertEquals(List.of("new", "active", "idle", "closed"), states(jsonl));
            // The connection's one record, in the connlog file.
            Map<String, Object> record = ConnLogFile.awaitOnlyRecord(connlog);
            assertEquals("closed", record.get("end"));
            assertEquals(1L, record.get("requests"));
            assertEquals(Map.of("new", 0L, "active", 0L, "idle", 0L, "opened", 1L, "closed", 1L, "hijacked", 0L, "requests", 1L), gauges(application.metrics));
            assertEquals(List.of(), recorder.violations());
        }
        finally
        {
            if (application.server != null)
                application.server.stop();
        }
    }

    @Test
    public void aBadValueIsRefusedByDropwizardsValidationNamingTheField() throws Exception
    {
        assertEquals("dw.yml has an error:\n  * connstate.queue.capacity must be between 1 and 1073741824 (was '0')\n",
            refused("connstate:\n  queue:\n    capacity: 0\n"));
        assertEquals("dw.yml has an error:\n  * connstate.status.path must start with '/', e.g. /connstate (was 'connstate')\n",
            refused("connstate:\n  status:\n    path: connstate\n"));
        assertEquals("dw.yml has an error:\n  * connstate.status.maxRows must be between 1 and 1000000 (was '0')\n",
            refused("connstate:\n  status:\n    maxRows: 0\n"));
        assertEquals("dw.yml has an error:\n  * connstate.keepAliveTimeout must be more than 0 (leave it blank for the connector's idle timeout) (was '0')\n",
            refused("connstate:\n  keepAliveTimeout: 0s\n"));
        assertEquals("dw.yml has an error:\n  * connstate.client.maxConnections must be between 0 (no cap) and 2147483647 (was '-1')\n",
            refused("connstate:\n  client:\n    maxConnections: -1\n"));
        assertEquals("dw.yml has an error:\n  * connstate.client.maxNew must be between 0 (no cap) and 2147483647 (was '-1')\n",
            refused("connstate:\n  client:\n    maxNew: -1\n"));
        assertEquals("dw.yml has an error:\n  * connstate.client.exempt Not an IP address, CIDR range or address range: 'lb.example.com'" +
                " (allowed: addresses, CIDR ranges such as 10.0.0.0/8, ranges such as 10.0.0.1-10.0.0.9) (was '10.0.0.0/8,lb.example.com')\n",
            refused("connstate:\n  client:\n    exempt: [10.0.0.0/8, lb.example.com]\n"));
        // The module's messages may hold braces and dollars: shown as they are.
        assertEquals("dw.yml has an error:\n  * connstate.sinks 'log' is listed twice (was 'log,log')\n",
            refused("connstate:\n  sinks: [log, log]\n"));
    }

    /** A negative duration is none to Dropwizard: its parser refuses it, at the field, before the module's rules. */
    @Test
    public void aNegativeRequestHeaderTimeoutIsNoDuration() throws Exception
    {
        java.nio.file.Path config = dir.resolve("dw.yml");
        Files.writeString(config, "connstate:\n  requestHeaderTimeout: -1s\n");
        YamlConfigurationFactory<HelloConfiguration> factory = new YamlConfigurationFactory<>(HelloConfiguration.class, Validators.newValidator(), Jackson.newObjectMapper(), "dw");
        String message = assertThrows(ConfigurationParsingException.class, () -> factory.build(config.toFile())).getMessage().replace(config.toString(), "dw.yml");
        // Then Jackson's reference chain.
        assertEquals(List.of("dw.yml has an error:", "  * Failed to parse configuration at: connstate.requestHeaderTimeout;" +
            " Cannot construct instance of `io.dropwizard.util.Duration`, problem: Invalid duration: -1s"), message.lines().limit(2).toList());
    }

    /**
     * Stopping the application drains: Dropwizard's GracefulHandler (which would answer 503) is
     * out of the chain, and an idle connection is closed at once, as a drain.
     */
    @Test
    public void theStopDrainsWithinTheShutdownGracePeriod() throws Exception
    {
        java.nio.file.Path config = dir.resolve("config.yml");
        Files.writeString(config, TestApplication.SERVER.replace("  type: simple\n", "  type: simple\n  shutdownGracePeriod: 10s\n") + "connstate:\n  sinks: []\n");
        HelloApplication application = new HelloApplication();
        application.run("server", config.toString());
        Server server = Wait.until("Dropwizard's server to start", Wait.TIMEOUT, () -> application.server, java.util.Objects::nonNull);
        try
        {
            assertEquals(10_000, server.getStopTimeout());
            assertEquals(List.of(), server.getDescendants(GracefulHandler.class), "Dropwizard's GracefulHandler is out");
            Recorder recorder = new Recorder();
            application.bundle.getTracker().addInlineListener(recorder);
            int port = ((NetworkConnector)server.getConnectors()[0]).getLocalPort();
            try (RawClient c = new RawClient(recorder, Raw.connect(port)))
            {
                assertEquals("hello", c.send("GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200).text());
                c.awaitSequence("new", "active", "idle");
                server.stop();
                assertEquals("", c.readToEnd());
                c.assertSequence("new", "active", "idle", "closed");
                assertEquals(CloseReason.DRAIN, c.reason());
            }
            assertEquals(List.of(), recorder.violations());
        }
        finally
        {
            server.stop();
        }
    }

    /** What only the class path can check (a sink's own setting) is refused when the server starts, under the field's name. */
    @Test
    public void aSinksBadSettingStopsTheStartNamingTheField() throws Exception
    {
        assertEquals("connstate.log.format Unknown placeholder {nope} in line format 'Client {remote} {nope}' " +
            "(known: [id, remote, local, state, prev, protocol, secure, requests, prevMs, ageMs, reason, race, tls, cipher, sni]) (was 'Client {remote} {nope}')",
            refusedAtStart("""
                connstate:
                  log:
                    format: "Client {remote} {nope}"
                """));
        assertEquals("connstate.connlog.retainDays must be 0 (keep every file) or more days (was '-1')",
            refusedAtStart("""
                connstate:
                  sinks: [connlog]
                  connlog:
                    file: %s
                    retainDays: -1
                """.formatted(dir.resolve("connlog-yyyy_mm_dd.jsonl"))));
    }

    /** The message of the refusal of this {@code connstate:} block when the application starts; the server did not start. */
    private String refusedAtStart(String connstate) throws Exception
    {
        java.nio.file.Path config = dir.resolve("config.yml");
        Files.writeString(config, TestApplication.SERVER + connstate);
        HelloApplication application = new HelloApplication();
        IllegalStateException x = assertThrows(IllegalStateException.class, () -> application.run("server", config.toString()));
        Throwable cause = x;
        while (cause.getCause() != null && !cause.getMessage().startsWith("connstate."))
            cause = cause.getCause();
        assertEquals(null, application.server, "the server did not start");
        return cause.getMessage();
    }

    /** The message of Dropwizard's refusal of this YAML. */
    private String refused(String yaml) throws Exception
    {
        java.nio.file.Path config = dir.resolve("dw.yml");
        Files.writeString(config, yaml);
        YamlConfigurationFactory<HelloConfiguration> factory = new YamlConfigurationFactory<>(HelloConfiguration.class, Validators.newValidator(), Jackson.newObjectMapper(), "dw");
        return assertThrows(ConfigurationValidationException.class, () -> factory.build(config.toFile())).getMessage().replace(config.toString(), "dw.yml");
    }

    private static Map<String, Long> gauges(MetricRegistry metrics)
    {
        Map<String, Long> values = new java.util.TreeMap<>();
        metrics.getGauges((name, metric) -> name.startsWith(ConnStateBundle.METRICS_PREFIX + ".")).forEach((name, gauge) ->
            values.put(name.substring(name.lastIndexOf('.') + 1), (Long)((Gauge<?>)gauge).getValue()));
        return values;
    }

    @SuppressWarnings("unchecked")
    private static List<String> states(java.nio.file.Path jsonl)
    {
        if (!Files.exists(jsonl))
            return List.of();
        List<String> lines;
        try
        {
            lines = Files.readAllLines(jsonl, StandardCharsets.UTF_8);
        }
        catch (java.io.IOException x)
        {
            throw new java.io.UncheckedIOException(x);
        }
        return lines.stream()
            .map(line -> (String)((Map<String, Object>)new JSON().fromJSON(line)).get("state"))
            .toList();
    }
}
