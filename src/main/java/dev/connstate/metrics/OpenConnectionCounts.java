package dev.connstate.metrics;

import dev.connstate.ConnInfo;
import dev.connstate.jetty.ConnStateTracker;

/**
 * Counts the open connections by state and kind, and the TLS handshakes in progress, when a
 * backend reads them: one walk over the tracked connections per read, and nothing moved per transition.
 */
public final class OpenConnectionCounts
{
    private final ConnStateTracker tracker;
    private final ConnectionKinds kinds;

    /**
     * @param tracker the tracker whose connections to count
     * @param kinds how to sort them
     */
    public OpenConnectionCounts(ConnStateTracker tracker, ConnectionKinds kinds)
    {
        this.tracker = tracker;
        this.kinds = kinds;
    }

    /**
     * Walks the tracked connections once (microseconds per thousand); hijacked ones are not counted.
     *
     * @return the counts, indexed by {@link #index(int, int)}
     */
    public long[] count()
    {
        long[] counts = new long[Instruments.OPEN_STATES.size() * ConnectionKinds.COUNT];
        for (ConnInfo conn : tracker.getOpenConnections())
        {
            int state = Instruments.openStateIndex(conn.state());
            if (state >= 0)
                counts[index(state, kinds.of(conn))]++;
        }
        return counts;
    }

    /**
     * Walks the tracked connections once, as {@link #count()}.
     *
     * @return the TLS connections whose handshake is in progress now ({@link ConnStateTracker#getTlsHandshakesInProgress()})
     */
    public long tlsHandshakesInProgress()
    {
        return tracker.getTlsHandshakesInProgress();
    }

    /**
     * @param state an index of {@link Instruments#OPEN_STATES}
     * @param kind a kind index
     * @return where {@link #count()} puts the count of that state and kind
     */
    public static int index(int state, int kind)
    {
        return state * ConnectionKinds.COUNT + kind;
    }
}
