package dev.connstate.otel;

import java.util.concurrent.atomic.AtomicReferenceArray;

import dev.connstate.metrics.ConnectionKind;
import dev.connstate.metrics.ConnectionKinds;
import dev.connstate.metrics.Instruments;
import dev.connstate.metrics.MetricsSink;
import dev.connstate.metrics.OpenConnectionCounts;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.LongCounter;
import io.opentelemetry.api.metrics.LongHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import io.opentelemetry.api.metrics.ObservableLongUpDownCounter;

/**
 * The OpenTelemetry instruments of one tracker, with one {@link Attributes} per bounded
 * combination of kind and outcome, built the first time it is needed and then only looked up in
 * an array, so recording allocates nothing once warm.
 *
 * <p>Attributes the semantic conventions say to leave out when unknown are left out: no
 * {@code network.protocol.*} before the first request, no {@code server.port} on a connection
 * whose local port is no connector's, no {@code error.type} on a wait that ended with a request.</p>
 */
final class OtelInstruments implements MetricsSink, AutoCloseable
{
    private static final AttributeKey<String> CONNECTION_STATE = AttributeKey.stringKey(Instruments.CONNECTION_STATE);
    private static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey(Instruments.ERROR_TYPE);
    private static final AttributeKey<String> PROTOCOL_NAME = AttributeKey.stringKey(Instruments.PROTOCOL_NAME);
    private static final AttributeKey<String> PROTOCOL_VERSION = AttributeKey.stringKey(Instruments.PROTOCOL_VERSION);
    private static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey(Instruments.SERVER_PORT);
    private static final AttributeKey<String> URL_SCHEME = AttributeKey.stringKey(Instruments.URL_SCHEME);
    private static final AttributeKey<String> CONNECTOR_NAME = AttributeKey.stringKey(Instruments.CONNECTOR_NAME);
    private static final AttributeKey<String> TLS_PROTOCOL_VERSION = AttributeKey.stringKey(Instruments.TLS_PROTOCOL_VERSION);

    private final ConnectionKinds kinds;
    private final OpenConnectionCounts counts;
    private final DoubleHistogram timeToFirstRequest;
    private final DoubleHistogram idleTime;
    private final DoubleHistogram duration;
    private final DoubleHistogram tlsHandshakes;
    private final LongHistogram requests;
    private final LongCounter hijacks;
    private final LongCounter races;
    private final LongCounter rejections;
    private final ObservableLongUpDownCounter openConnections;
    private final ObservableLongUpDownCounter activeTlsHandshakes;
    /** By kind * OUTCOMES + outcome: the kind's attributes, and error.type for a close. */
    private final AtomicReferenceArray<Attributes> outcomeAttributes = new AtomicReferenceArray<>(ConnectionKinds.COUNT * Instruments.OUTCOMES);
    /** By kind * TLS_VERSIONS + TLS version: the kind's attributes (without an HTTP version) and the TLS version. */
    private final AtomicReferenceArray<Attributes> handshakeAttributes = new AtomicReferenceArray<>(ConnectionKinds.COUNT * Instruments.TLS_VERSIONS);
    /** By {@link OpenConnectionCounts#index}: the kind's attributes and the state. */
    private final AtomicReferenceArray<Attributes> stateAttributes = new AtomicReferenceArray<>(Instruments.OPEN_STATES.size() * ConnectionKinds.COUNT);

    OtelInstruments(Meter meter, ConnectionKinds kinds, OpenConnectionCounts counts)
    {
        this.kinds = kinds;
        this.counts = counts;
        timeToFirstRequest = seconds(meter, Instruments.TIME_TO_FIRST_REQUEST, Instruments.TIME_TO_FIRST_REQUEST_DESCRIPTION);
        idleTime = seconds(meter, Instruments.IDLE_TIME, Instruments.IDLE_TIME_DESCRIPTION);
        duration = seconds(meter, Instruments.CONNECTION_DURATION, Instruments.CONNECTION_DURATION_DESCRIPTION);
        tlsHandshakes = seconds(meter, Instruments.TLS_HANDSHAKE_DURATION, Instruments.TLS_HANDSHAKE_DURATION_DESCRIPTION);
        requests = meter.histogramBuilder(Instruments.REQUESTS)
            .setDescription(Instruments.REQUESTS_DESCRIPTION)
            .setUnit(Instruments.UNIT_REQUESTS)
            .ofLongs()
            .setExplicitBucketBoundariesAdvice(Instruments.REQUEST_BOUNDARIES)
            .build();
        hijacks = meter.counterBuilder(Instruments.HIJACKS)
            .setDescription(Instruments.HIJACKS_DESCRIPTION)
            .setUnit(Instruments.UNIT_CONNECTIONS)
            .build();
        races = meter.counterBuilder(Instruments.KEEP_ALIVE_RACES)
            .setDescription(Instruments.KEEP_ALIVE_RACES_DESCRIPTION)
            .setUnit(Instruments.UNIT_REQUESTS)
            .build();
        rejections = meter.counterBuilder(Instruments.REJECTED)
            .setDescription(Instruments.REJECTED_DESCRIPTION)
            .setUnit(Instruments.UNIT_CONNECTIONS)
            .build();
        openConnections = meter.upDownCounterBuilder(Instruments.OPEN_CONNECTIONS)
            .setDescription(Instruments.OPEN_CONNECTIONS_DESCRIPTION)
            .setUnit(Instruments.UNIT_CONNECTIONS)
            .buildWithCallback(this::observeOpenConnections);
        activeTlsHandshakes = meter.upDownCounterBuilder(Instruments.ACTIVE_TLS_HANDSHAKES)
            .setDescription(Instruments.ACTIVE_TLS_HANDSHAKES_DESCRIPTION)
            .setUnit(Instruments.UNIT_HANDSHAKES)
            .buildWithCallback(this::observeTlsHandshakes);
    }

    private static DoubleHistogram seconds(Meter meter, String name, String description)
    {
        return meter.histogramBuilder(name)
            .setDescription(description)
            .setUnit(Instruments.UNIT_SECONDS)
            .setExplicitBucketBoundariesAdvice(Instruments.SECONDS_BOUNDARIES)
            .build();
    }

    /** Called by the SDK when it collects, never on a Jetty thread: one walk, every kind seen so far in each state (0 included). */
    private void observeOpenConnections(ObservableLongMeasurement measurement)
    {
        long[] open = counts.count();
        for (int kind = 0; kind < ConnectionKinds.COUNT; kind++)
        {
            if (kinds.kind(kind) == null)
                continue;
            for (int state = 0; state < Instruments.OPEN_STATES.size(); state++)
            {
                int index = OpenConnectionCounts.index(state, kind);
                Attributes attributes = stateAttributes.get(index);
                if (attributes == null)
                {
                    attributes = kindAttributes(kind).put(CONNECTION_STATE, Instruments.OPEN_STATES.get(state).toString()).build();
                    stateAttributes.set(index, attributes);
                }
                measurement.record(open[index], attributes);
            }
        }
    }

    /** Called by the SDK when it collects: one walk, from the first TLS connection on (a server without TLS shows none). */
    private void observeTlsHandshakes(ObservableLongMeasurement measurement)
    {
        if (kinds.anySecure())
            measurement.record(counts.tlsHandshakesInProgress());
    }

    @Override
    public void seen(int kind)
    {
        // Open connections are observed by walking them: nothing to make per kind.
    }

    @Override
    public void timeToFirstRequest(int kind, int outcome, long nanos)
    {
        timeToFirstRequest.record(nanos / 1e9, attributes(kind, outcome));
    }

    @Override
    public void idleTime(int kind, int outcome, long nanos)
    {
        idleTime.record(nanos / 1e9, attributes(kind, outcome));
    }

    @Override
    public void tlsHandshakeSucceeded(int kind, int tlsVersion, long nanos)
    {
        Attributes attributes = cached(handshakeAttributes, kind * Instruments.TLS_VERSIONS + tlsVersion, kind,
            TLS_PROTOCOL_VERSION, Instruments.tlsVersionValue(tlsVersion));
        tlsHandshakes.record(nanos / 1e9, attributes);
    }

    @Override
    public void tlsHandshakeFailed(int kind, int outcome, long ageNanos)
    {
        // The kind has no HTTP version: its attributes are the connector's and error.type.
        tlsHandshakes.record(ageNanos / 1e9, attributes(kind, outcome));
    }

    @Override
    public void closed(int kind, int outcome, long ageNanos, long requests)
    {
        Attributes attributes = attributes(kind, outcome);
        duration.record(ageNanos / 1e9, attributes);
        this.requests.record(requests, attributes);
    }

    @Override
    public void hijacked(int kind)
    {
        hijacks.add(1, attributes(kind, Instruments.REQUEST_CAME));
    }

    @Override
    public void raced(int kind, int outcome)
    {
        races.add(1, attributes(kind, outcome));
    }

    @Override
    public void rejected(int kind, int outcome)
    {
        rejections.add(1, attributes(kind, outcome));
    }

    /** Stops observing open connections and handshakes; the synchronous instruments stay with the meter. */
    @Override
    public void close()
    {
        openConnections.close();
        activeTlsHandshakes.close();
    }

    private Attributes attributes(int kind, int outcome)
    {
        return cached(outcomeAttributes, kind * Instruments.OUTCOMES + outcome, kind, ERROR_TYPE, Instruments.errorType(outcome));
    }

    /** @return the kind's attributes and {@code key} = {@code value} ({@code null}: none), built the first time at {@code index} */
    private Attributes cached(AtomicReferenceArray<Attributes> cache, int index, int kind, AttributeKey<String> key, String value)
    {
        Attributes attributes = cache.get(index);
        if (attributes == null)
        {
            AttributesBuilder builder = kindAttributes(kind);
            if (value != null)
                builder.put(key, value);
            attributes = builder.build();
            cache.set(index, attributes);
        }
        return attributes;
    }

    private AttributesBuilder kindAttributes(int index)
    {
        ConnectionKind kind = kinds.kind(index);
        AttributesBuilder builder = Attributes.builder().put(URL_SCHEME, kind.scheme());
        if (kind.protocolVersion() != null)
            builder.put(PROTOCOL_NAME, kind.protocolName()).put(PROTOCOL_VERSION, kind.protocolVersion());
        if (kind.port() >= 0)
            builder.put(SERVER_PORT, (long)kind.port());
        if (kind.connectorName() != null)
            builder.put(CONNECTOR_NAME, kind.connectorName());
        return builder;
    }
}
