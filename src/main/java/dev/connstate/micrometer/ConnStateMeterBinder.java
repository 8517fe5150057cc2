package dev.connstate.micrometer;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.metrics.ConnectionKinds;
import dev.connstate.metrics.MetricsListener;
import dev.connstate.metrics.OpenConnectionCounts;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Binds a tracker's connection metrics to Micrometer registries: {@code http.server.open_connections}
 * by {@code http.connection.state} ({@code new}, {@code active}, {@code idle}), and the time,
 * request and hijack instruments of {@link dev.connstate.metrics.Instruments}, and the events each
 * queued sink or listener dropped ({@code jetty.connstate.listener.dropped}), with the same names
 * and attributes as the OpenTelemetry ones.
 *
 * <pre>{@code
 * new ConnStateMeterBinder(tracker).bindTo(registry);   // Prometheus: http_server_open_connections{http_connection_state="idle"}
 * }</pre>
 *
 * <p>Its names ({@code http.server.*}) do not meet Micrometer's {@code JettyConnectionMetrics}
 * ({@code jetty.connections.*}), which Spring Boot binds: both can be bound to one registry.
 * Open connections are counted when the registry reads the gauges (one walk per scrape); each
 * {@link #bindTo} adds one inline listener to the tracker, which records the rest on the Jetty
 * thread without allocating once its meters exist.</p>
 */
public class ConnStateMeterBinder implements MeterBinder, AutoCloseable
{
    private final ConnStateTracker tracker;
    private final Tags tags;
    private final ConnectionKinds kinds;
    private final OpenConnectionCounts counts;
    private final List<Bound> bound = new CopyOnWriteArrayList<>();

    private record Bound(MetricsListener listener, MicrometerInstruments instruments, ListenerDropCounters drops)
    {
    }

    /**
     * @param tracker the tracker whose connections to measure
     */
    public ConnStateMeterBinder(ConnStateTracker tracker)
    {
        this(tracker, Tags.empty());
    }

    /**
     * @param tracker the tracker whose connections to measure
     * @param tags tags added to every meter (e.g. the application's name)
     */
    public ConnStateMeterBinder(ConnStateTracker tracker, Iterable<Tag> tags)
    {
        this.tracker = tracker;
        this.tags = Tags.of(tags);
        this.kinds = new ConnectionKinds(tracker);
        this.counts = new OpenConnectionCounts(tracker, kinds);
    }

    @Override
    public void bindTo(MeterRegistry registry)
    {
        MicrometerInstruments instruments = new MicrometerInstruments(registry, tags, kinds, counts);
        MetricsListener listener = new MetricsListener(kinds, instruments);
        bound.add(new Bound(listener, instruments, ListenerDropCounters.watch(tracker, registry, tags)));
        tracker.addInlineListener(listener);
    }

    /**
     * Stops recording, and removes the meters made so far from the registries it was bound to.
     */
    @Override
    public void close()
    {
        for (Bound b : bound)
        {
            tracker.removeListener(b.listener());
            b.instruments().remove();
            b.drops().remove();
        }
        bound.clear();
    }
}
