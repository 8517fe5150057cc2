package dev.connstate.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;


import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.config.OtelSwitch;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.Distribution.Result;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --add-modules=http,connstate-otel} on the real distribution, with the newest
 * OpenTelemetry Java agent that Maven Central serves ({@code otel-agent.version} in the pom)
 * attached with {@code -javaagent}: the module's {@code [files]} fetch the OpenTelemetry API the
 * code is built with, it turns {@code jetty.connstate.otel} on, and our instruments reach the
 * agent's own Prometheus exporter with the exact values of known traffic. The oldest API the
 * module's switch accepts ({@link OtelSwitch#OLDEST_API}), put in {@code lib/connstate/} by hand,
 * gets there too.
 */
public class OtelModuleIT
{
    private static final Path AGENT = Path.of(System.getProperty("connstate.it.otelAgent"));
    /** Where the build put the oldest API's jars. */
    private static final Path OLDEST_API = Path.of(System.getProperty("connstate.it.otelOldestApi"));
    /** The agent takes a while to start, and to answer on its exporter's port. */
    private static final Duration AGENT_EVENT_TIMEOUT = Duration.ofSeconds(30);

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    @Test
    public void theModuleFetchesTheApiAndTheAgentExportsOurInstruments() throws Exception
    {
        Base base = Distribution.newBase("otel");
        Result added = base.run("--add-modules=http,connstate-otel", "--approve-all-licenses", Distribution.mavenLocalRepo());
        assertEquals(0, added.exit(), added.output());
        // The API the code is built and unit-tested with.
        List<String> expected = Stream.of("opentelemetry-api", "opentelemetry-common", "opentelemetry-context").map(Distribution::jarOnTheTestClassPath).toList();
        assertEquals(expected, base.list("lib/connstate/otel"), added.output());
        // The module turns jetty.connstate.otel on.
        exportsOurInstruments(base, expected.get(0));
    }

    @Test
    public void theOldestApiTheSwitchAcceptsWorksThroughTheNewestAgent() throws Exception
    {
        Base base = Distribution.newBase("otel-oldest").addModules("http,connstate");
        for (String jar : List.of("opentelemetry-api-" + OtelSwitch.OLDEST_API + ".jar", "opentelemetry-context-" + OtelSwitch.OLDEST_API + ".jar"))
            Files.copy(OLDEST_API.resolve(jar), base.resolve("lib/connstate/" + jar));
        exportsOurInstruments(base, "opentelemetry-api-" + OtelSwitch.OLDEST_API + ".jar", "jetty.connstate.otel=true");
    }

    /** Starts Jetty on {@code base} with the agent and its Prometheus exporter, makes known traffic, and reads our instruments from the exporter. */
    private static void exportsOurInstruments(Base base, String api, String... properties) throws Exception
    {
        int exporterPort = freePort();
        base.jvmArgs("-Xmx256m", "-javaagent:" + AGENT,
            "-Dotel.service.name=connstate-it",
            "-Dotel.metrics.exporter=prometheus",
            "-Dotel.exporter.prometheus.host=127.0.0.1",
            "-Dotel.exporter.prometheus.port=" + exporterPort,
            "-Dotel.metric.export.interval=200",
            "-Dotel.metrics.exemplar.filter=always_off",
            "-Dotel.traces.exporter=none",
            "-Dotel.logs.exporter=none");
        try (Jetty jetty = base.start(properties))
        {
            String output = jetty.output();
            assertTrue(output.contains("opentelemetry-javaagent - version: " + agentVersion()), output);
            assertTrue(output.contains("Reporting connection metrics through OpenTelemetry (GlobalOpenTelemetry)"), output);
            assertFalse(output.contains(":ERROR:"), output);
            int port = jetty.httpPort();
            // Known traffic: three connections with one request each, closed by the client; one left idle.
            for (int i = 0; i < 3; i++)
                assertEquals(404, Clients.rawGet(port, "", "/").status());
            try (Socket idle = Raw.connect(port))
            {
                Raw.write(idle, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(404, Raw.read(idle.getInputStream()).status());
                String kind = "network_protocol_name=\"http\",network_protocol_version=\"1.1\",otel_scope_name=\"dev.connstate\",server_port=\"" + port + "\",url_scheme=\"http\"";
                List<String> expected = List.of(
                    "http_server_open_connections{http_connection_state=\"idle\"," + kind + "} 1.0",
                    "http_server_open_connections{http_connection_state=\"active\"," + kind + "} 0.0",
                    "http_server_connection_duration_seconds_count{error_type=\"remote_close\"," + kind + "} 3",
                    "http_server_connection_requests_count{error_type=\"remote_close\"," + kind + "} 3",
                    "http_server_connection_requests_sum{error_type=\"remote_close\"," + kind + "} 3.0");
                // The agent's exporter collects when scraped; the closes reach the counts after the client read its response.
                String scrape = Wait.until("the agent's exporter to show\n" + String.join("\n", expected), AGENT_EVENT_TIMEOUT,
                    () -> metricsOrEmpty(exporterPort), text -> text.lines().toList().containsAll(expected));
                System.out.println("The agent " + agentVersion() + " (built on the API " + agentApiVersion() + ") exported, with " + api + ":\n" +
                    scrape.lines().filter(l -> l.startsWith("http_server_open_connections{") || l.startsWith("http_server_connection_duration_seconds_count{"))
                        .reduce((a, b) -> a + "\n" + b).orElse(""));
            }
        }
    }

    /** The agent's Prometheus text, or nothing while its exporter does not answer yet. */
    private static String metricsOrEmpty(int port)
    {
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            return Raw.read(socket.getInputStream()).text();
        }
        catch (IOException x)
        {
            return "";
        }
    }

    /** The agent's version, from its manifest. */
    private static String agentVersion() throws IOException
    {
        try (JarFile jar = new JarFile(AGENT.toFile()))
        {
            return jar.getManifest().getMainAttributes().getValue("Implementation-Version");
        }
    }

    /** The OpenTelemetry API version the agent is built on (its shaded copy's version.properties). */
    private static String agentApiVersion() throws IOException
    {
        try (JarFile jar = new JarFile(AGENT.toFile()))
        {
            java.util.Properties properties = new java.util.Properties();
            properties.load(jar.getInputStream(jar.getEntry("io/opentelemetry/javaagent/shaded/io/opentelemetry/api/version.properties")));
            return properties.getProperty("sdk.version");
        }
    }
}
