package dev.connstate.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.connstate.Raw;
import dev.connstate.Wait;
import dev.connstate.it.Distribution.Base;
import dev.connstate.it.Distribution.Jetty;
import dev.connstate.it.Distribution.Result;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --add-modules=http,proxy-protocol,connstate-prometheus} on the real distribution: the
 * module's {@code [files]} fetch Micrometer and the Prometheus client (from the build's local
 * repository, as they would from Maven Central), and a scrape after known traffic shows the exact
 * series. The PROXY protocol places clients outside loopback, as the table's tests do: refused
 * unless {@code jetty.connstate.status.allow} lists them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public class PrometheusModuleIT
{
    private static final List<String> LIBRARIES = List.of("micrometer-commons", "micrometer-observation", "micrometer-core",
        "micrometer-registry-prometheus", "prometheus-metrics-model", "prometheus-metrics-config", "prometheus-metrics-core",
        "prometheus-metrics-tracer-common", "prometheus-metrics-exposition-textformats", "prometheus-metrics-exposition-formats");

    private Base base;
    private String addOutput;

    @BeforeAll
    public void makeBase() throws Exception
    {
        base = Distribution.newBase("prometheus");
        Result added = base.run("--add-modules=http,proxy-protocol,connstate-prometheus", "--approve-all-licenses", Distribution.mavenLocalRepo());
        assertEquals(0, added.exit(), added.output());
        addOutput = added.output();
    }

    @Test
    public void theFilesFetchTheLibrariesIntoLibConnstatePrometheus() throws Exception
    {
        List<String> jars = base.list("lib/connstate/prometheus");
        // Each at the version the build resolved, whose jar the tests ran with.
        List<String> expected = LIBRARIES.stream().map(Distribution::jarOnTheTestClassPath).sorted().toList();
        assertEquals(expected, jars, addOutput);
        for (String jar : jars)
            assertTrue(addOutput.contains(" to ${jetty.base}/lib/connstate/prometheus/" + jar) && addOutput.contains("copy " + Distribution.MAVEN_REPO + "/"), addOutput);
        String ini = Files.readString(base.resolve("start.d/connstate-prometheus.ini"));
        assertTrue(ini.contains("#jetty.connstate.prometheus.path=/metrics\n"), ini);
    }

    @Test
    public void scrapeShowsTheExactSeriesAndRefusesOutsiders() throws Exception
    {
        try (Jetty jetty = base.start())
        {
            String output = jetty.output();
            assertTrue(output.contains("Serving the connection metrics as Prometheus text at /metrics to loopback\n"), output);
            assertFalse(output.contains(":WARN :") || output.contains(":ERROR:"), output);
            int port = jetty.httpPort();
            // Known traffic: two connections with one request each, closed by the client; one with two requests left open, idle.
            for (int i = 0; i < 2; i++)
                assertEquals(404, Clients.rawGet(port, "", "/").status());
            try (Socket idle = Raw.connect(port); Socket scraper = Raw.connect(port))
            {
                Raw.write(idle, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(404, Raw.read(idle.getInputStream()).status());
                assertEquals(404, Raw.read(idle.getInputStream()).status());
                String kind = "jetty_connector_name=\"\",network_protocol_name=\"http\",network_protocol_version=\"1.1\",server_port=\"" + port + "\",url_scheme=\"http\"";
                // The scraper's keep-alive connection is active while it scrapes; it never closes meanwhile.
                List<String> expected = List.of(
                    "http_server_open_connections{http_connection_state=\"active\"," + kind + "} 1.0",
                    "http_server_open_connections{http_connection_state=\"idle\"," + kind + "} 1.0",
                    "http_server_open_connections{http_connection_state=\"new\"," + kind + "} 0.0",
                    "http_server_connection_duration_seconds_count{error_type=\"remote_close\"," + kind + "} 2",
                    "http_server_connection_requests_count{error_type=\"remote_close\"," + kind + "} 2",
                    "http_server_connection_requests_sum{error_type=\"remote_close\"," + kind + "} 2.0");
                // The closes and the idle connection's state reach the counts after the client read its
                // response, and the gauges may lag by 100 ms: scrape until one scrape shows them all.
                Raw.Response scrape = Wait.until("a scrape with\n" + String.join("\n", expected), Distribution.EVENT_TIMEOUT, () ->
                {
                    try
                    {
                        Raw.write(scraper, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
                        return Raw.read(scraper.getInputStream());
                    }
                    catch (IOException x)
                    {
                        throw new UncheckedIOException(x);
                    }
                }, r -> r.status() != 200 || r.text().lines().toList().containsAll(expected));
                assertEquals(200, scrape.status(), scrape.head());
                assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.header("Content-Type"));
                assertEquals("no-store", scrape.header("Cache-Control"));
                System.out.println("A scrape of the connstate-prometheus module:\n" + scrape.text().lines()
                    .filter(l -> l.startsWith("http_server_open_connections{") || l.startsWith("http_server_connection_requests_") && !l.contains("_bucket"))
                    .reduce((a, b) -> a + "\n" + b).orElse(""));
                // A client the PROXY header places outside loopback: refused.
                assertEquals(403, Clients.rawGet(port, "PROXY TCP4 192.0.2.7 192.0.2.1 1234 80\r\n", "/metrics").status());
            }
        }
    }

    @Test
    public void aCustomPathAndTheAllowList() throws Exception
    {
        try (Jetty jetty = base.start("jetty.connstate.prometheus.path=/internal/prometheus", "jetty.connstate.status.allow=192.0.2.0/24"))
        {
            int port = jetty.httpPort();
            assertTrue(jetty.output().contains("Serving the connection metrics as Prometheus text at /internal/prometheus to loopback and 192.0.2.0/24\n"), jetty.output());
            Raw.Response listed = Clients.rawGet(port, "PROXY TCP4 192.0.2.7 192.0.2.1 1234 80\r\n", "/internal/prometheus");
            assertEquals(200, listed.status(), listed.head());
            assertTrue(listed.text().contains("\nhttp_server_open_connections{http_connection_state=\"active\""), listed.text());
            assertEquals(403, Clients.rawGet(port, "PROXY TCP4 198.51.100.9 192.0.2.1 1234 80\r\n", "/internal/prometheus").status());
            // The default path is the application's now (none here: 404).
            assertEquals(404, Clients.rawGet(port, "", "/metrics").status());
        }
    }

    @Test
    public void aBadPathStopsTheStartWithOneLine() throws Exception
    {
        Result result = base.run("jetty.http.port=0", "jetty.connstate.prometheus.path=metrics");
        assertNotEquals(0, result.exit(), result.output());
        assertTrue(result.output().contains("Not starting: jetty.connstate.prometheus.path=metrics: the metrics path must start with '/', e.g. /metrics\n"), result.output());
    }
}
