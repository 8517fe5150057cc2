package dev.connstate.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.jar.JarFile;

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
 * attached with {@code -javaagent}: the module's {@code [files]} fetch the OpenTelemetry API, it
 * turns {@code jetty.connstate.otel} on, and our instruments reach the agent's own Prometheus
 * exporter with the exact values of known traffic.
 *
 * <p>The API the module fetches is older than the one the code is compiled against: an agent
 * bridges the application's API only up to the version it is built on.</p>
 */
public class OtelModuleIT
{
    private static final Path AGENT = Path.of(System.getProperty("connstate.it.otelAgent"));
    /** The agent needs more than start.jar's usual small heap, and a while to start. */
    private static final Duration AGENT_EVENT_TIMEOUT = Duration.ofSeconds(30);

    private static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            return socket.getLocalPort();
        }
    }

    @Test
    public void theAgentExportsOurInstrumentsThroughTheModulesApi() throws Exception
    {
        Base base = Distribution.newBase("otel");
        Result added = base.run("--add-modules=http,connstate-otel", "--approve-all-licenses", Distribution.mavenLocalRepo());
        assertEquals(0, added.exit(), added.output());
        // The API the module fetched: the oldest the code works with, which every agent since bridges.
        List<String> jars = base.list("lib/connstate/otel");
        assertEquals(List.of("opentelemetry-api-" + OtelSwitch.OLDEST_API + ".jar", "opentelemetry-context-" + OtelSwitch.OLDEST_API + ".jar"), jars, added.output());
        // The agent is built on a newer API than that (it would not bridge a newer one than its own).
        String agentApi = agentApiVersion();
        assertTrue(compareVersions(agentApi, OtelSwitch.OLDEST_API) >= 0, "the agent is built on " + agentApi);

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
        try (Jetty jetty = base.start())
        {
            String output = jetty.output();
            assertTrue(output.contains("opentelemetry-javaagent - version: " + agentVersion()), output);
            // The module turned jetty.connstate.otel on.
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
                System.out.println("The agent " + agentVersion() + " (API " + agentApi + ") exported, with the module's API " + OtelSwitch.OLDEST_API + ":\n" +
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

    private static int compareVersions(String a, String b)
    {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++)
        {
            int c = Integer.compare(i < x.length ? Integer.parseInt(x[i]) : 0, i < y.length ? Integer.parseInt(y[i]) : 0);
            if (c != 0)
                return c;
        }
        return 0;
    }
}
