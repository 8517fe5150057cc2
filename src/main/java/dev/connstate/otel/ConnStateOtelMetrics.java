package dev.connstate.otel;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.metrics.Instruments;
import dev.connstate.metrics.ConnectionKinds;
import dev.connstate.metrics.MetricsListener;
import dev.connstate.metrics.OpenConnectionCounts;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongCounter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;

/**
 * Reports a tracker's connection metrics through the OpenTelemetry API: {@code http.server.open_connections}
 * by {@code http.connection.state} ({@code new}, {@code active}, {@code idle}), and the time,
 * request and hijack instruments of {@link dev.connstate.metrics.Instruments}, and the events each
 * queued sink or listener dropped ({@code jetty.connstate.listener.dropped}), on the meter
 * {@value #SCOPE}. Any SDK, or the OpenTelemetry Java agent, exports them (OTLP to a collector).
 *
 * <pre>{@code
 * ConnStateOtelMetrics metrics = ConnStateOtelMetrics.register(tracker, openTelemetry);  // or registerGlobal(tracker)
 * }</pre>
 *
 * <p>Open connections are counted when the SDK collects them (one walk per collection); one
 * inline listener records the rest on the Jetty thread, without allocating once warm. Register
 * one per tracker and {@code OpenTelemetry}; {@link #close()} stops it.</p>
 */
public final class ConnStateOtelMetrics implements AutoCloseable
{
    /** The instrumentation scope (meter name) of the instruments. */
    public static final String SCOPE = "dev.connstate";
    private static final AttributeKey<String> LISTENER_NAME = AttributeKey.stringKey(Instruments.LISTENER_NAME);

    private final ConnStateTracker tracker;
    private final MetricsListener listener;
    private final OtelInstruments instruments;
    private final ObservableLongCounter listenerDrops;

    private ConnStateOtelMetrics(ConnStateTracker tracker, MetricsListener listener, OtelInstruments instruments, ObservableLongCounter listenerDrops)
    {
        this.tracker = tracker;
        this.listener = listener;
        this.instruments = instruments;
        this.listenerDrops = listenerDrops;
    }

    /**
     * Makes the instruments on {@code openTelemetry}'s meter {@value #SCOPE} and starts recording.
     *
     * @param tracker the tracker whose connections to measure
     * @param openTelemetry where to report them
     * @return the registration, to close when done
     */
    public static ConnStateOtelMetrics register(ConnStateTracker tracker, OpenTelemetry openTelemetry)
    {
        Meter meter = openTelemetry.meterBuilder(SCOPE).build();
        ConnectionKinds kinds = new ConnectionKinds(tracker);
        OtelInstruments instruments = new OtelInstruments(meter, kinds, new OpenConnectionCounts(tracker, kinds));
        MetricsListener listener = new MetricsListener(kinds, instruments);
        tracker.addInlineListener(listener);
        ObservableLongCounter drops = meter.counterBuilder(Instruments.LISTENER_DROPPED)
            .setDescription(Instruments.LISTENER_DROPPED_DESCRIPTION)
            .setUnit(Instruments.UNIT_EVENTS)
            .buildWithCallback(measurement -> observeDrops(tracker, measurement));
        return new ConnStateOtelMetrics(tracker, listener, instruments, drops);
    }

    /** Called by the SDK when it collects, never on a Jetty thread: each queue's own count of the events it dropped. */
    private static void observeDrops(ConnStateTracker tracker, ObservableLongMeasurement measurement)
    {
        for (QueuedListener queue : tracker.getQueuedListeners())
            measurement.record(queue.getDropped(), Attributes.of(LISTENER_NAME, queue.getName()));
    }

    /**
     * {@link #register} on {@link GlobalOpenTelemetry}: what the OpenTelemetry Java agent sets up
     * (no-op if nothing did).
     *
     * @param tracker the tracker whose connections to measure
     * @return the registration, to close when done
     */
    public static ConnStateOtelMetrics registerGlobal(ConnStateTracker tracker)
    {
        return register(tracker, GlobalOpenTelemetry.get());
    }

    /** Stops recording and observing. */
    @Override
    public void close()
    {
        tracker.removeListener(listener);
        instruments.close();
        listenerDrops.close();
    }
}
