package dev.connstate.jetty;

import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.ConnState;
import org.eclipse.jetty.io.EndPoint;

/**
 * Holds the connections being tracked, keyed by their root end point ({@link RootEndPoint}),
 * and counts what is read from them: how many are in each state, and the requests they served.
 *
 * <p>A connection enters when its socket is accepted and leaves when it ends: closed, or, once
 * hijacked, when its socket closes (until then it is also found by its socket, since a takeover
 * may carry no connection listener). Nothing of a connection stays here after that.</p>
 */
final class ConnectionRegistry
{
    /** Connection ids are unique within the JVM, across trackers and restarts. */
    private static final AtomicLong IDS = new AtomicLong();

    private final Map<EndPoint, TrackedConnection> connections = new ConcurrentHashMap<>();
    private final Map<Object, TrackedConnection> hijackedSockets = new ConcurrentHashMap<>();
    /** Requests of the connections no longer tracked; those of tracked ones are counted on read. */
    private final LongAdder requestsOfForgotten = new LongAdder();
    /** The last requests total read: the total never steps back, even while a connection moves from one count to the other. */
    private final AtomicLong requestsTotalRead = new AtomicLong();

    /**
     * @return the connection on this root end point, {@code null} if none is tracked
     */
    TrackedConnection lookup(EndPoint root)
    {
        return connections.get(root);
    }

    /**
     * @return a new connection on {@code root}, with a new id, not registered yet
     */
    static TrackedConnection create(EndPoint root)
    {
        return new TrackedConnection(IDS.incrementAndGet(), root, System.nanoTime());
    }

    /** Caller holds {@code conn}'s lock: whoever finds it next waits until {@code new} is out. */
    void register(TrackedConnection conn)
    {
        connections.put(conn.root(), conn);
    }

    /** {@code conn} was just hijacked; caller holds its lock. */
    void afterHijack(TrackedConnection conn)
    {
        EndPoint root = conn.root();
        Object socket = root.getTransport();
        if (socket != null)
            hijackedSockets.put(socket, conn);
        // The socket may have closed before it was registered: then no close event will come.
        if (!root.isOpen())
            forget(conn);
    }

    /** {@code conn} ended (or its hijacked socket closed); caller holds its lock. Idempotent. */
    void forget(TrackedConnection conn)
    {
        EndPoint root = conn.root();
        // Its requests move to the forgotten ones after it left the registry: a total read in
        // between misses them for a moment (the total read before stands), never counts them twice.
        if (connections.remove(root, conn))
            requestsOfForgotten.add(conn.requests());
        // Only a hijacked connection is registered by socket.
        if (conn.state() != ConnState.HIJACKED)
            return;
        Object socket = root.getTransport();
        if (socket != null)
            hijackedSockets.remove(socket, conn);
    }

    /**
     * @return the hijacked connection whose socket this is, {@code null} if none
     */
    TrackedConnection hijackedOn(Object socket)
    {
        return hijackedSockets.get(socket);
    }

    /**
     * @return the tracked connections, a live view
     */
    Collection<TrackedConnection> all()
    {
        return connections.values();
    }

    int size()
    {
        return connections.size();
    }

    /**
     * Walks every tracked connection, which takes microseconds per thousand.
     *
     * @return how many tracked connections are in {@code state} now
     */
    long count(ConnState state)
    {
        long count = 0;
        for (TrackedConnection conn : connections.values())
        {
            if (conn.state() == state)
                count++;
        }
        return count;
    }

    /**
     * @return how long the connection longest in {@code state} has been in it, in nanoseconds; 0 if none is
     */
    long oldestNanos(ConnState state)
    {
        long now = System.nanoTime();
        long oldest = 0;
        for (TrackedConnection conn : connections.values())
        {
            if (conn.state() == state)
                oldest = Math.max(oldest, now - conn.sinceNanos());
        }
        return oldest;
    }

    /**
     * Counts the requests of the connections tracked now and of those gone: no shared counter
     * moves per request.
     *
     * @return the requests begun since this registry was made; never less than the last figure read
     */
    long requestsTotal()
    {
        // The forgotten first: a connection forgotten while this walks the registry is then missed, not counted twice.
        long total = requestsOfForgotten.sum();
        for (TrackedConnection conn : connections.values())
            total += conn.requests();
        return requestsTotalRead.accumulateAndGet(total, Math::max);
    }

    /** Drops every entry: the tracker stopped and reported them all. */
    void clear()
    {
        connections.clear();
        hijackedSockets.clear();
    }
}
