package dev.connstate.metrics;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;

/**
 * The inline listener behind every metrics backend: turns each transition into what a
 * {@link MetricsSink} records (how long a connection waited, how it ended), without allocating.
 * Open connections are not counted here: {@link OpenConnectionCounts} counts them when read.
 *
 * <p>Register it with {@code tracker.addInlineListener}: it runs on the Jetty thread that caused
 * the transition, once per transition, with the connection's transitions serialized.</p>
 */
public final class MetricsListener implements ConnStateListener
{
    private final ConnectionKinds kinds;
    private final MetricsSink sink;

    /**
     * @param kinds how to sort connections into kinds
     * @param sink what records them
     */
    public MetricsListener(ConnectionKinds kinds, MetricsSink sink)
    {
        this.kinds = kinds;
        this.sink = sink;
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        int kind = kinds.of(conn);
        sink.seen(kind);
        switch (state)
        {
            case ACTIVE -> waitEnded(conn, kind, Instruments.REQUEST_CAME);
            case CLOSED ->
            {
                int outcome = Instruments.outcome(conn.reason());
                waitEnded(conn, kind, outcome);
                sink.closed(kind, outcome, conn.ageNanos(), conn.requests());
            }
            case HIJACKED -> sink.hijacked(kind);
            // new and idle begin a wait, recorded when it ends.
            case NEW, IDLE -> { }
        }
    }

    private void waitEnded(ConnInfo conn, int kind, int outcome)
    {
        ConnState previous = conn.previous();
        if (previous == ConnState.NEW)
            sink.timeToFirstRequest(kind, outcome, conn.previousNanos());
        else if (previous == ConnState.IDLE)
            sink.idleTime(kind, outcome, conn.previousNanos());
    }
}
