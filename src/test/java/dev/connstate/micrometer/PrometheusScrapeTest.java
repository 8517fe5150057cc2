package dev.connstate.micrometer;

import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.connstate.Wait;
import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.metrics.Instruments;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
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

    @Test
    public void theScrapeShowsTheNamesBesideJettyConnectionMetrics() throws Exception
    {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        List<String> failures = new ArrayList<>();
        registry.config().onMeterRegistrationFailed((id, reason) -> failures.add(id.getName() + ": " + reason));
        try (TrackedServer s = new TrackedServer(); ConnStateMeterBinder binder = new ConnStateMeterBinder(s.tracker))
        {
            binder.bindTo(registry);
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
        assertEquals(List.of(), failures);
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
