package dev.connstate.otel;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

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
import io.opentelemetry.sdk.testing.exporter.InMemoryMetricReader;

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
