package dev.connstate.micrometer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.util.List;

import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.jetty.ConnStateTracker;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Prometheus text over real connections: the exact series after known traffic, the format the
 * scraper's {@code Accept} asks for, {@code no-store}, the access rule by the connection's address
 * (the PROXY protocol places clients outside loopback), other paths passed on, the meters gone
 * when it stops.
 */
public class ConnStatePrometheusHandlerTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /** GETs {@code path} on a new connection, {@code proxyHeader} first (may be empty), and reads the response. */
    private static Raw.Response get(int port, String proxyHeader, String path, String accept) throws IOException
    {
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, proxyHeader + "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + (accept == null ? "" : "Accept: " + accept + "\r\n") + "Connection: close\r\n\r\n");
            return Raw.read(socket.getInputStream());
        }
    }

    /** A tracked server with the PROXY protocol in front of HTTP/1.1, the metrics at /metrics in front of the hello handler. */
    private static TrackedServer server(String allow) throws Exception
    {
        TrackedServer s = new TrackedServer();
        HttpConnectionFactory http = new HttpConnectionFactory(s.httpConfig);
        s.addConnector(new ProxyConnectionFactory(http.getProtocol()), http);
        s.server.insertHandler(new ConnStatePrometheusHandler(s.tracker, "/metrics", allow));
        return s.start();
    }

    @Test
    public void servesTheExactSeriesAsPrometheusText() throws Exception
    {
        try (TrackedServer s = server(""))
        {
            // Known traffic: one connection closed after two requests, one left idle after one.
            try (Socket closed = Raw.connect(s.port()))
            {
                Raw.write(closed, GET + GET);
                assertEquals("hello", Raw.read(closed.getInputStream()).text());
                assertEquals("hello", Raw.read(closed.getInputStream()).text());
            }
            try (Socket idle = Raw.connect(s.port()))
            {
                Raw.write(idle, GET);
                assertEquals("hello", Raw.read(idle.getInputStream()).text());
                String kind = "jetty_connector_name=\"\",network_protocol_name=\"http\",network_protocol_version=\"1.1\",server_port=\"" + s.port() + "\",url_scheme=\"http\"";
                List<String> expected = List.of(
                    "http_server_open_connections{http_connection_state=\"idle\"," + kind + "} 1.0",
                    "http_server_connection_duration_seconds_count{error_type=\"remote_close\"," + kind + "} 1",
                    "http_server_connection_requests_count{error_type=\"remote_close\"," + kind + "} 1",
                    "http_server_connection_requests_sum{error_type=\"remote_close\"," + kind + "} 2.0");
                // Each scrape on a connection of its own, closed at once: the gauges may lag by 100 ms (RecentCounts).
                Raw.Response scrape = Wait.until("the scrape to show\n" + String.join("\n", expected), Wait.TIMEOUT,
                    () -> unchecked(() -> get(s.port(), "", "/metrics", null)),
                    r -> r.status() != 200 || r.text().lines().toList().containsAll(expected));
                assertEquals(200, scrape.status(), scrape.head());
                assertEquals("text/plain; version=0.0.4; charset=utf-8", scrape.header("Content-Type"));
                assertEquals("no-store", scrape.header("Cache-Control"));
                assertTrue(scrape.text().contains("# TYPE http_server_open_connections gauge\n"), scrape.text());
            }
        }
    }

    @Test
    public void followsTheScrapersAcceptHeader() throws Exception
    {
        try (TrackedServer s = server(""))
        {
            // What Prometheus 2 sends by default: OpenMetrics first.
            Raw.Response openMetrics = get(s.port(), "", "/metrics",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
            assertEquals(200, openMetrics.status());
            assertEquals("application/openmetrics-text; version=1.0.0; charset=utf-8", openMetrics.header("Content-Type"));
            assertTrue(openMetrics.text().endsWith("# EOF\n"), openMetrics.text());
            assertTrue(openMetrics.text().contains("\nhttp_server_open_connections{"), openMetrics.text());
            Raw.Response text = get(s.port(), "", "/metrics", "text/plain");
            assertEquals("text/plain; version=0.0.4; charset=utf-8", text.header("Content-Type"));
            assertFalse(text.text().contains("# EOF"), text.text());
        }
    }

    @Test
    public void refusesClientsOutsideLoopbackAndTheAllowList() throws Exception
    {
        for (String allow : new String[]{"", "192.0.2.0/24"})
        {
            try (TrackedServer s = server(allow))
            {
                boolean listed = !allow.isEmpty();
                Raw.Response inside = get(s.port(), "PROXY TCP4 192.0.2.7 192.0.2.1 1234 443\r\n", "/metrics", null);
                assertEquals(listed ? 200 : 403, inside.status(), "allow=" + allow);
                assertEquals(listed, inside.text().contains("http_server_open_connections{"), inside.text());
                assertEquals(403, get(s.port(), "PROXY TCP4 198.51.100.9 192.0.2.1 1234 443\r\n", "/metrics", null).status());
                assertEquals(200, get(s.port(), "PROXY TCP4 127.0.0.1 192.0.2.1 1234 443\r\n", "/metrics", null).status());
                // Other paths reach the application, from anywhere.
                Raw.Response app = get(s.port(), "PROXY TCP4 198.51.100.9 192.0.2.1 1234 443\r\n", "/", null);
                assertEquals(200, app.status());
                assertEquals("hello", app.text());
                s.recorder.awaitAllEnded(4);
            }
        }
    }

    @Test
    public void bindsWhenItStartsAndRemovesTheMetersWhenItStops() throws Exception
    {
        ConnStatePrometheusHandler metrics;
        try (TrackedServer s = server(""))
        {
            metrics = s.server.getDescendant(ConnStatePrometheusHandler.class);
            assertEquals(s.tracker, metrics.getTracker());
            assertEquals("/metrics", metrics.getPath());
            // The meters of a kind of connection are made when the first such connection is seen.
            assertEquals(200, get(s.port(), "", "/metrics", null).status());
            s.recorder.awaitAllEnded(1);
            assertFalse(metrics.getRegistry().getMeters().isEmpty());
        }
        assertEquals(List.of(), metrics.getRegistry().getMeters());
    }

    /** Made with a registry, it serves that registry as it is, whatever was bound to it. */
    @Test
    public void servesARegistryItIsGiven() throws Exception
    {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.counter("my.counter").increment(3);
        try (TrackedServer s = new TrackedServer())
        {
            s.server.insertHandler(new ConnStatePrometheusHandler(registry, "/prometheus", null));
            s.start();
            Raw.Response scrape = get(s.port(), "", "/prometheus", null);
            assertEquals(200, scrape.status());
            assertTrue(scrape.text().lines().toList().contains("my_counter_total 3.0"), scrape.text());
            assertFalse(scrape.text().contains("http_server_"), scrape.text());
            assertEquals("hello", get(s.port(), "", "/metrics", null).text());
        }
    }

    @Test
    public void refusesWhatIsNotAPath()
    {
        for (String bad : new String[]{"metrics", "", "/metrics?x=1", "/met rics", "/a#b"})
        {
            IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> new ConnStatePrometheusHandler((ConnStateTracker)null, bad, ""));
            assertTrue(x.getMessage().startsWith("The metrics path must ") && x.getMessage().endsWith(": '" + bad + "'"), x.getMessage());
        }
        assertEquals("must start with '/'", ConnStatePrometheusHandler.checkPath(null));
        assertEquals(null, ConnStatePrometheusHandler.checkPath("/metrics/connstate"));
    }

    private interface IoSupplier<T>
    {
        T get() throws IOException;
    }

    private static <T> T unchecked(IoSupplier<T> supplier)
    {
        try
        {
            return supplier.get();
        }
        catch (IOException x)
        {
            throw new UncheckedIOException(x);
        }
    }
}
