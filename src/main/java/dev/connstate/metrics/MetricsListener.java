package dev.connstate.metrics;

import dev.connstate.CloseReason;
import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.TlsInfo;

/**
 * The inline listener behind every metrics backend: turns each transition into what a
 * {@link MetricsSink} records (how long a connection waited, how it ended), without allocating.
 * Open connections are not counted here: {@link OpenConnectionCounts} counts them when read.
 *
 * <p>Register it with {@code tracker.addInlineListener}: it runs on the Jetty thread that caused
 * the transition, once per transition, with the connection's transitions serialized.</p>
 *
 * <p>A kept-alive request costs it next to nothing: going idle records nothing, and coming back
 * from idle only makes sure the connection's kind has its gauges (the request may have changed the
 * HTTP version). What a connection's idle waits say is recorded once, when it ends: its longest
 * wait before a request ({@link ConnInfo#longestIdleNanos()}), and the wait its close ended.</p>
 *
 * <p>A TLS connection's handshake is recorded once, when it leaves {@code new}: its duration
 * ({@link TlsInfo#handshakeNanos()}) if it completed, else its life, with the
 * close's reason. A connection without TLS costs one test of {@link ConnInfo#secure()} there.</p>
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
        switch (state)
        {
            case NEW -> seen(conn);
            case ACTIVE ->
            {
                int kind = seen(conn);
                if (conn.previous() == ConnState.NEW)
                {
                    sink.timeToFirstRequest(kind, Instruments.REQUEST_CAME, conn.previousNanos());
                    if (conn.secure())
                        handshakeSucceeded(conn, kind);
                }
            }
            // The wait it begins is recorded at the connection's end: as its longest, or as the wait its close ended.
            case IDLE -> { }
            case CLOSED ->
            {
                int kind = seen(conn);
                int outcome = Instruments.outcome(conn.reason());
                ConnState previous = conn.previous();
                if (previous == ConnState.NEW)
                    sink.timeToFirstRequest(kind, outcome, conn.previousNanos());
                else if (previous == ConnState.IDLE)
                    sink.idleTime(kind, outcome, conn.previousNanos());
                if (conn.secure())
                {
                    // Without TLS facts the handshake never completed: it lasted the connection's life.
                    if (conn.tls() == null)
                        sink.tlsHandshakeFailed(kinds.withoutVersion(kind), outcome, conn.ageNanos());
                    else if (previous == ConnState.NEW)
                        handshakeSucceeded(conn, kind);
                }
                longestIdle(conn, kind);
                sink.closed(kind, outcome, conn.ageNanos(), conn.requests());
                if (conn.race())
                    sink.raced(kind, outcome);
                if (conn.reason() == CloseReason.CLIENT_LIMIT)
                    sink.rejected(kind, outcome);
            }
            case HIJACKED ->
            {
                int kind = seen(conn);
                longestIdle(conn, kind);
                sink.hijacked(kind);
            }
        }
    }

    /** @return the connection's kind now, whose instruments the sink has made sure of */
    private int seen(ConnInfo conn)
    {
        int kind = kinds.of(conn);
        sink.seen(kind);
        return kind;
    }

    /** A TLS connection left {@code new} with its handshake done: recorded once per connection. */
    private void handshakeSucceeded(ConnInfo conn, int kind)
    {
        TlsInfo tls = conn.tls();
        // Its duration is unknown only if the tracker did not see the handshake end.
        if (tls != null && tls.handshakeNanos() >= 0)
            sink.tlsHandshakeSucceeded(kinds.withoutVersion(kind), Instruments.tlsVersion(tls.protocol()), tls.handshakeNanos());
    }

    private void longestIdle(ConnInfo conn, int kind)
    {
        long longest = conn.longestIdleNanos();
        if (longest >= 0)
            sink.idleTime(kind, Instruments.REQUEST_CAME, longest);
    }
}
