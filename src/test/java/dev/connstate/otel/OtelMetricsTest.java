package dev.connstate.otel;

import java.net.Socket;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.connstate.Wait;
import dev.connstate.Raw;
import dev.connstate.Tls;
import dev.connstate.TrackedServer;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.metrics.ConnectionKinds;
import dev.connstate.metrics.Instruments;
import dev.connstate.metrics.MetricsScenarios;
import dev.connstate.metrics.MetricsSink;
import dev.connstate.metrics.OpenConnectionCounts;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.metrics.SdkMeterProvider;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.data.MetricDataType;
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The scenarios on the OpenTelemetry SDK, read through its {@link InMemoryMetricReader}, through
 * {@link ConnStateOtelMetrics}.
 */
public class OtelMetricsTest extends MetricsScenarios
{
    private final InMemoryMetricReader reader = InMemoryMetricReader.create();
    private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
        .setMeterProvider(SdkMeterProvider.builder().registerMetricReader(reader).build())
        .build();
    private ConnStateOtelMetrics metrics;

    @Override
    protected void bind(ConnStateTracker tracker)
    {
        metrics = ConnStateOtelMetrics.register(tracker, sdk);
    }

    @Override
    protected void unbind()
    {
        if (metrics != null)
            metrics.close();
        sdk.close();
    }

    @Override
    protected Map<Map<String, String>, Long> openConnections()
    {
        return counter(Instruments.OPEN_CONNECTIONS);
    }

    @Override
    protected Map<Map<String, String>, Long> activeTlsHandshakes()
    {
        return counter(Instruments.ACTIVE_TLS_HANDSHAKES);
    }

    @Override
    protected Map<Map<String, String>, Histogram> histogram(String name)
    {
        Map<Map<String, String>, Histogram> series = new HashMap<>();
        metric(name).ifPresent(m -> m.getHistogramData().getPoints().forEach(p -> series.put(attributes(p.getAttributes()), new Histogram(p.getCount(), p.getSum()))));
        return series;
    }

    @Override
    protected Map<Map<String, String>, Long> counter(String name)
    {
        Map<Map<String, String>, Long> series = new HashMap<>();
        metric(name).ifPresent(m -> m.getLongSumData().getPoints().forEach(p -> series.put(attributes(p.getAttributes()), p.getValue())));
        return series;
    }

    @Override
    protected MetricsSink newSink(ConnStateTracker tracker, ConnectionKinds kinds)
    {
        return new OtelInstruments(sdk.getMeter(ConnStateOtelMetrics.SCOPE), kinds, new OpenConnectionCounts(tracker, kinds));
    }

    /** Units, descriptions and boundaries as the instruments advise them; the SDK applies the advice. */
    @Test
    public void instrumentsCarryTheirUnitsAndBoundaries() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            bind(s.tracker);
            s.tracker.addListener("log", (conn, state) -> { }, 16);
            s.addConnector();
            ServerConnector tls = s.addTlsConnector();
            s.start();
            String get = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
            try (Socket socket = Raw.connect(s.port()); Socket secure = Tls.connect(s.port(tls)))
            {
                for (Socket each : List.of(socket, secure))
                {
                    Raw.write(each, get);
                    assertEquals("hello", Raw.read(each.getInputStream()).text());
                }
            }
            Wait.until("the close and the handshake to be recorded",
                () -> metric(Instruments.REQUESTS).isPresent() && metric(Instruments.TLS_HANDSHAKE_DURATION).isPresent());
            Map<String, String> units = new HashMap<>();
            Map<String, List<Double>> boundaries = new HashMap<>();
            for (MetricData m : reader.collectAllMetrics())
            {
                units.put(m.getName(), m.getUnit());
                if (m.getType() == MetricDataType.HISTOGRAM)
                    boundaries.put(m.getName(), m.getHistogramData().getPoints().iterator().next().getBoundaries());
            }
            assertEquals(Map.of(Instruments.OPEN_CONNECTIONS, "{connection}", Instruments.CONNECTION_DURATION, "s",
                Instruments.TIME_TO_FIRST_REQUEST, "s", Instruments.REQUESTS, "{request}",
                Instruments.TLS_HANDSHAKE_DURATION, "s", Instruments.ACTIVE_TLS_HANDSHAKES, "{handshake}", Instruments.LISTENER_DROPPED, "{event}"), units);
            List<Double> requestBoundaries = Instruments.REQUEST_BOUNDARIES.stream().map(Long::doubleValue).toList();
            assertEquals(Map.of(Instruments.CONNECTION_DURATION, Instruments.SECONDS_BOUNDARIES,
                Instruments.TIME_TO_FIRST_REQUEST, Instruments.SECONDS_BOUNDARIES, Instruments.REQUESTS, requestBoundaries,
                Instruments.TLS_HANDSHAKE_DURATION, Instruments.SECONDS_BOUNDARIES), boundaries);
            // Handshakes in progress go up and down: a sum that is not monotonic, as open connections.
            assertFalse(metric(Instruments.ACTIVE_TLS_HANDSHAKES).orElseThrow().getLongSumData().isMonotonic());
            // Drops only grow: a counter (Prometheus: _total), though read when collected.
            assertTrue(metric(Instruments.LISTENER_DROPPED).orElseThrow().getLongSumData().isMonotonic());
            assertEquals(Instruments.CONNECTION_DURATION_DESCRIPTION, metric(Instruments.CONNECTION_DURATION).orElseThrow().getDescription());
            assertEquals(ConnStateOtelMetrics.SCOPE, metric(Instruments.CONNECTION_DURATION).orElseThrow().getInstrumentationScopeInfo().getName());
        }
    }

    /** @return the metric {@code name} as collected now, if it has any point */
    Optional<MetricData> metric(String name)
    {
        return reader.collectAllMetrics().stream().filter(m -> m.getName().equals(name)).findFirst();
    }

    private static Map<String, String> attributes(Attributes attributes)
    {
        Map<String, String> map = new HashMap<>();
        attributes.forEach((key, value) -> map.put(key.getKey(), String.valueOf(value)));
        // The SDK never reports an empty value; present() only keeps the comparison the same as Micrometer's.
        return present(map);
    }
}
