package dev.connstate.micrometer;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.Wait;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.TrackedServer;
import dev.connstate.metrics.Instruments;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Prometheus scrapes: the names and labels operators query, beside Micrometer's own
 * {@link JettyConnectionMetrics} (what Spring Boot binds) in the same registry.
 */
public class PrometheusScrapeTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final List<String> failures = new ArrayList<>();

    @BeforeEach
    public void recordRegistrationFailures()
    {
        registry.config().onMeterRegistrationFailed((id, reason) -> failures.add(id.getName() + ": " + reason));
    }

    /** Every meter registered: no series of a name with other labels than the others. */
    @AfterEach
    public void noRegistrationFailed()
    {
        assertEquals(List.of(), failures);
    }

    /** A binder of {@code s}'s tracker, bound to the registry. */
    private ConnStateMeterBinder bound(TrackedServer s)
    {
        ConnStateMeterBinder binder = new ConnStateMeterBinder(s.tracker);
        binder.bindTo(registry);
        return binder;
    }

    @Test
    public void theScrapeShowsTheNamesBesideJettyConnectionMetrics() throws Exception
    {
        try (TrackedServer s = new TrackedServer(); ConnStateMeterBinder binder = bound(s))
        {
            s.addConnector();
            JettyConnectionMetrics.addToAllConnectors(s.server, registry);
            s.start();
            try (Socket closing = Raw.connect(s.port()))
            {
                Raw.write(closing, GET);
                assertEquals("hello", Raw.read(closing.getInputStream()).text());
            }
            try (Socket idle = Raw.connect(s.port()))
            {
                Raw.write(idle, GET);
                assertEquals("hello", Raw.read(idle.getInputStream()).text());
                // Labels in Prometheus's order; an empty one is no label to Prometheus, as OpenTelemetry leaves it out.
                String kind = "jetty_connector_name=\"\",network_protocol_name=\"http\",network_protocol_version=\"1.1\",server_port=\"" + s.port() + "\",url_scheme=\"http\"";
                // The per-state gauges share one walk of the connections for up to 100 ms
                // (RecentCounts), so a scrape may show the closing connection still active beside
                // its close: wait until one scrape shows every line.
                List<String> expected = List.of(
                    "http_server_open_connections{http_connection_state=\"new\"," + kind + "} 0.0",
                    "http_server_open_connections{http_connection_state=\"active\"," + kind + "} 0.0",
                    "http_server_open_connections{http_connection_state=\"idle\"," + kind + "} 1.0",
                    "http_server_connection_duration_seconds_count{error_type=\"remote_close\"," + kind + "} 1",
                    "http_server_connection_idle_time_seconds_count{error_type=\"remote_close\"," + kind + "} 1",
                    "http_server_connection_time_to_first_request_seconds_count{error_type=\"\"," + kind + "} 2",
                    "http_server_connection_requests_count{error_type=\"remote_close\"," + kind + "} 1",
                    "http_server_connection_requests_sum{error_type=\"remote_close\"," + kind + "} 1.0");
                String scrape = Wait.until("the scrape to show\n" + String.join("\n", expected), Wait.TIMEOUT, registry::scrape,
                    text -> text.lines().toList().containsAll(expected));
                // The histograms' buckets are OpenTelemetry's advisory boundaries.
                assertEquals(List.of("0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1.0", "2.0", "5.0", "10.0", "30.0", "60.0", "120.0", "300.0", "+Inf"),
                    buckets(scrape, "http_server_connection_duration_seconds_bucket"));
                assertEquals(Instruments.REQUEST_BOUNDARIES.size() + 1, buckets(scrape, "http_server_connection_requests_bucket").size());
                // Micrometer's own Jetty binder, side by side, with its own names.
                assertTrue(scrape.contains("\njetty_connections_current_connections{"), scrape);
            }
        }
    }

    /**
     * The TLS handshake's names and labels: one handshake that succeeded, one that failed, every
     * series with the same labels (registered without a failure), and none in progress.
     */
    @Test
    public void theScrapeShowsTlsHandshakes() throws Exception
    {
        try (TrackedServer s = new TrackedServer(); ConnStateMeterBinder binder = bound(s))
        {
            s.addTlsConnector();
            s.start();
            try (RawClient secure = s.connectTls(); RawClient plain = s.connect())
            {
                secure.send(GET);
                assertEquals("hello", secure.read().text());
                plain.send(GET);
                plain.readToEnd();
            }
            String connector = "jetty_connector_name=\"\",server_port=\"" + s.port() + "\",";
            List<String> expected = List.of(
                "http_server_active_tls_handshakes 0.0",
                "http_server_connection_tls_handshake_duration_seconds_count{error_type=\"\"," + connector + "tls_protocol_version=\"1.3\",url_scheme=\"https\"} 1",
                "http_server_connection_tls_handshake_duration_seconds_count{error_type=\"tls_handshake_failed\"," + connector + "tls_protocol_version=\"\",url_scheme=\"https\"} 1");
            String scrape = Wait.until("the scrape to show\n" + String.join("\n", expected), Wait.TIMEOUT, registry::scrape,
                text -> text.lines().toList().containsAll(expected));
            assertEquals(Instruments.SECONDS_BOUNDARIES.size() + 1, buckets(scrape, "http_server_connection_tls_handshake_duration_seconds_bucket").size());
        }
    }

    /** Each queued sink's drops, a counter with the queue's name, 0 until it drops. */
    @Test
    public void theScrapeShowsEachListenersDrops() throws Exception
    {
        try (TrackedServer s = new TrackedServer(); ConnStateMeterBinder binder = bound(s))
        {
            s.tracker.addListener("jsonl", (conn, state) -> { }, 16);
            s.addConnector();
            s.start();
            List<String> scrape = registry.scrape().lines().toList();
            assertTrue(scrape.contains("# TYPE jetty_connstate_listener_dropped_total counter"), String.join("\n", scrape));
            assertTrue(scrape.contains("jetty_connstate_listener_dropped_total{jetty_connstate_listener_name=\"jsonl-1\"} 0.0"), String.join("\n", scrape));
        }
    }

    /** The {@code le} labels of the first series of {@code bucketName}, in order. */
    private static List<String> buckets(String scrape, String bucketName)
    {
        List<String> le = new ArrayList<>();
        String first = null;
        Matcher m = Pattern.compile("(?m)^" + bucketName + "\\{(.*),le=\"([^\"]+)\"} ").matcher(scrape);
        while (m.find())
        {
            if (first == null)
                first = m.group(1);
            if (first.equals(m.group(1)))
                le.add(m.group(2));
        }
        return le;
    }
}
