package dev.connstate.micrometer;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.metrics.ConnectionKinds;
import dev.connstate.metrics.Instruments;
import dev.connstate.metrics.MetricsScenarios;
import dev.connstate.metrics.MetricsSink;
import dev.connstate.metrics.OpenConnectionCounts;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * The scenarios on Micrometer's {@link SimpleMeterRegistry}, through {@link ConnStateMeterBinder}.
 */
public class MicrometerMetricsTest extends MetricsScenarios
{
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private ConnStateMeterBinder binder;

    @Override
    protected void bind(ConnStateTracker tracker)
    {
        binder = new ConnStateMeterBinder(tracker);
        binder.bindTo(registry);
    }

    @Override
    protected void unbind()
    {
        if (binder != null)
            binder.close();
        registry.close();
    }

    @Override
    protected Map<Map<String, String>, Long> openConnections()
    {
        return gauges(Instruments.OPEN_CONNECTIONS);
    }

    @Override
    protected Map<Map<String, String>, Long> activeTlsHandshakes()
    {
        return gauges(Instruments.ACTIVE_TLS_HANDSHAKES);
    }

    private Map<Map<String, String>, Long> gauges(String name)
    {
        Map<Map<String, String>, Long> series = new HashMap<>();
        registry.find(name).gauges().forEach(gauge -> series.put(attributes(gauge), (long)gauge.value()));
        return series;
    }

    @Override
    protected Map<Map<String, String>, Histogram> histogram(String name)
    {
        Map<Map<String, String>, Histogram> series = new HashMap<>();
        if (name.equals(Instruments.REQUESTS))
            registry.find(name).summaries().forEach(s -> series.put(attributes(s), new Histogram(s.count(), s.totalAmount())));
        else
            registry.find(name).timers().forEach(t -> series.put(attributes(t), new Histogram(t.count(), t.totalTime(TimeUnit.SECONDS))));
        return series;
    }

    @Override
    protected Map<Map<String, String>, Long> counter(String name)
    {
        Map<Map<String, String>, Long> series = new HashMap<>();
        registry.find(name).counters().forEach(c -> series.put(attributes(c), (long)c.count()));
        // Counted when read, as the listeners' drops.
        registry.find(name).functionCounters().forEach(c -> series.put(attributes(c), (long)c.count()));
        return series;
    }

    @Override
    protected MetricsSink newSink(ConnStateTracker tracker, ConnectionKinds kinds)
    {
        return new MicrometerInstruments(registry, Tags.empty(), kinds, new OpenConnectionCounts(tracker, kinds));
    }

    private static Map<String, String> attributes(Meter meter)
    {
        Map<String, String> tags = new HashMap<>();
        for (Tag tag : meter.getId().getTags())
            tags.put(tag.getKey(), tag.getValue());
        return present(tags);
    }
}
