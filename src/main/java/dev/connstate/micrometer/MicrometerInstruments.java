package dev.connstate.micrometer;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;

import dev.connstate.metrics.ConnectionKind;
import dev.connstate.metrics.ConnectionKinds;
import dev.connstate.metrics.Instruments;
import dev.connstate.metrics.MetricsSink;
import dev.connstate.metrics.OpenConnectionCounts;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The meters of one {@link MeterRegistry}: one per bounded combination of kind and outcome,
 * made the first time it is needed and then only looked up in an array, so recording allocates
 * nothing once warm.
 *
 * <p>Every meter of a name carries the same tag keys, as Prometheus requires; where OpenTelemetry
 * omits an attribute (no {@code error.type} on a wait that ended with a request, no version before
 * the first request) the tag is empty, which Prometheus treats as absent: one PromQL query reads
 * both backends.</p>
 */
final class MicrometerInstruments implements MetricsSink
{
    private static final Duration[] SECONDS_SLOS = Instruments.SECONDS_BOUNDARIES.stream()
        .map(seconds -> Duration.ofNanos(Math.round(seconds * 1e9))).toArray(Duration[]::new);
    private static final double[] REQUEST_SLOS = Instruments.REQUEST_BOUNDARIES.stream().mapToDouble(Long::doubleValue).toArray();
    private static final int SIZE = ConnectionKinds.COUNT * Instruments.OUTCOMES;

    private final MeterRegistry registry;
    private final Tags tags;
    private final ConnectionKinds kinds;
    private final OpenConnectionCounts tlsCounts;
    private final RecentCounts counts;
    private final AtomicBoolean tlsGauged = new AtomicBoolean();
    private final AtomicIntegerArray gauged = new AtomicIntegerArray(ConnectionKinds.COUNT);
    private final AtomicReferenceArray<Timer> timeToFirstRequest = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<Timer> idleTime = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<Timer> duration = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<Timer> handshakes = new AtomicReferenceArray<>(ConnectionKinds.COUNT * Instruments.TLS_VERSIONS);
    private final AtomicReferenceArray<Timer> failedHandshakes = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<DistributionSummary> requests = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<Counter> races = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<Counter> rejections = new AtomicReferenceArray<>(SIZE);
    private final AtomicReferenceArray<Counter> hijacks = new AtomicReferenceArray<>(ConnectionKinds.COUNT);
    private final List<Meter> made = new CopyOnWriteArrayList<>();

    MicrometerInstruments(MeterRegistry registry, Tags tags, ConnectionKinds kinds, OpenConnectionCounts counts)
    {
        this.registry = registry;
        this.tags = tags;
        this.kinds = kinds;
        this.tlsCounts = counts;
        this.counts = new RecentCounts(counts);
    }

    @Override
    public void seen(int kind)
    {
        if (gauged.get(kind) != 0 || !gauged.compareAndSet(kind, 0, 1))
            return;
        for (int state = 0; state < Instruments.OPEN_STATES.size(); state++)
        {
            int index = OpenConnectionCounts.index(state, kind);
            made.add(Gauge.builder(Instruments.OPEN_CONNECTIONS, counts, c -> c.get(index))
                .description(Instruments.OPEN_CONNECTIONS_DESCRIPTION)
                .tags(kindTags(kind))
                .tag(Instruments.CONNECTION_STATE, Instruments.OPEN_STATES.get(state).toString())
                .strongReference(true)
                .register(registry));
        }
        // Handshakes in progress, from the first TLS connection on: a server without TLS shows none.
        if (kinds.kind(kind).secure() && tlsGauged.compareAndSet(false, true))
        {
            made.add(Gauge.builder(Instruments.ACTIVE_TLS_HANDSHAKES, tlsCounts, OpenConnectionCounts::tlsHandshakesInProgress)
                .description(Instruments.ACTIVE_TLS_HANDSHAKES_DESCRIPTION)
                .tags(tags)
                .strongReference(true)
                .register(registry));
        }
    }

    @Override
    public void timeToFirstRequest(int kind, int outcome, long nanos)
    {
        timer(timeToFirstRequest, Instruments.TIME_TO_FIRST_REQUEST, Instruments.TIME_TO_FIRST_REQUEST_DESCRIPTION, kind, outcome)
            .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void idleTime(int kind, int outcome, long nanos)
    {
        timer(idleTime, Instruments.IDLE_TIME, Instruments.IDLE_TIME_DESCRIPTION, kind, outcome).record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void tlsHandshakeSucceeded(int kind, int tlsVersion, long nanos)
    {
        handshakeTimer(handshakes, kind * Instruments.TLS_VERSIONS + tlsVersion, kind, "", orEmpty(Instruments.tlsVersionValue(tlsVersion)))
            .record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void tlsHandshakeFailed(int kind, int outcome, long ageNanos)
    {
        handshakeTimer(failedHandshakes, kind * Instruments.OUTCOMES + outcome, kind, orEmpty(Instruments.errorType(outcome)), "")
            .record(ageNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void closed(int kind, int outcome, long ageNanos, long requests)
    {
        timer(duration, Instruments.CONNECTION_DURATION, Instruments.CONNECTION_DURATION_DESCRIPTION, kind, outcome)
            .record(ageNanos, TimeUnit.NANOSECONDS);
        int index = kind * Instruments.OUTCOMES + outcome;
        DistributionSummary summary = this.requests.get(index);
        if (summary == null)
        {
            summary = made(DistributionSummary.builder(Instruments.REQUESTS)
                .description(Instruments.REQUESTS_DESCRIPTION)
                .tags(kindTags(kind))
                .tag(Instruments.ERROR_TYPE, orEmpty(Instruments.errorType(outcome)))
                .serviceLevelObjectives(REQUEST_SLOS)
                .register(registry));
            this.requests.set(index, summary);
        }
        summary.record(requests);
    }

    @Override
    public void hijacked(int kind)
    {
        Counter counter = hijacks.get(kind);
        if (counter == null)
        {
            counter = made(Counter.builder(Instruments.HIJACKS)
                .description(Instruments.HIJACKS_DESCRIPTION)
                .tags(kindTags(kind))
                .register(registry));
            hijacks.set(kind, counter);
        }
        counter.increment();
    }

    @Override
    public void raced(int kind, int outcome)
    {
        counter(races, Instruments.KEEP_ALIVE_RACES, Instruments.KEEP_ALIVE_RACES_DESCRIPTION, kind, outcome).increment();
    }

    @Override
    public void rejected(int kind, int outcome)
    {
        counter(rejections, Instruments.REJECTED, Instruments.REJECTED_DESCRIPTION, kind, outcome).increment();
    }

    private Counter counter(AtomicReferenceArray<Counter> counters, String name, String description, int kind, int outcome)
    {
        int index = kind * Instruments.OUTCOMES + outcome;
        Counter counter = counters.get(index);
        if (counter == null)
        {
            counter = made(Counter.builder(name)
                .description(description)
                .tags(kindTags(kind))
                .tag(Instruments.ERROR_TYPE, orEmpty(Instruments.errorType(outcome)))
                .register(registry));
            counters.set(index, counter);
        }
        return counter;
    }

    /** Removes every meter made here from the registry. */
    void remove()
    {
        for (Meter meter : made)
            registry.remove(meter);
        made.clear();
    }

    private Timer timer(AtomicReferenceArray<Timer> timers, String name, String description, int kind, int outcome)
    {
        int index = kind * Instruments.OUTCOMES + outcome;
        Timer timer = timers.get(index);
        if (timer == null)
            timer = newTimer(timers, index, name, description, kindTags(kind).and(Instruments.ERROR_TYPE, orEmpty(Instruments.errorType(outcome))));
        return timer;
    }

    /** A handshake's timer carries the connector's tags, not the HTTP version's: it ends before that means anything. */
    private Timer handshakeTimer(AtomicReferenceArray<Timer> timers, int index, int kind, String errorType, String tlsVersion)
    {
        Timer timer = timers.get(index);
        if (timer == null)
        {
            timer = newTimer(timers, index, Instruments.TLS_HANDSHAKE_DURATION, Instruments.TLS_HANDSHAKE_DURATION_DESCRIPTION,
                connectorTags(kinds.kind(kind)).and(Instruments.ERROR_TYPE, errorType, Instruments.TLS_PROTOCOL_VERSION, tlsVersion));
        }
        return timer;
    }

    private Timer newTimer(AtomicReferenceArray<Timer> timers, int index, String name, String description, Tags tags)
    {
        // The registry returns the same timer for the same name and tags: a race makes one.
        Timer timer = made(Timer.builder(name)
            .description(description)
            .tags(tags)
            .serviceLevelObjectives(SECONDS_SLOS)
            .register(registry));
        timers.set(index, timer);
        return timer;
    }

    private <M extends Meter> M made(M meter)
    {
        made.add(meter);
        return meter;
    }

    private Tags kindTags(int index)
    {
        ConnectionKind kind = kinds.kind(index);
        return connectorTags(kind).and(
            Instruments.PROTOCOL_NAME, orEmpty(kind.protocolName()),
            Instruments.PROTOCOL_VERSION, orEmpty(kind.protocolVersion()));
    }

    /** The common tags, and those of the connector that accepted the connection and whether it is TLS. */
    private Tags connectorTags(ConnectionKind kind)
    {
        return tags.and(
            Instruments.SERVER_PORT, kind.port() < 0 ? "" : Integer.toString(kind.port()),
            Instruments.URL_SCHEME, kind.scheme(),
            Instruments.CONNECTOR_NAME, orEmpty(kind.connectorName()));
    }

    private static String orEmpty(String value)
    {
        return value == null ? "" : value;
    }
}
