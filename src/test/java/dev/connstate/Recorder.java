package dev.connstate;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Records every connection's events and checks the contract on each one: one {@code new}
 * first, legal steps only, {@code previous} chained, the state argument equal to
 * {@code conn.state()}, nothing after a terminal state.
 *
 * <p>Works as an inline or a queued listener, in an embedded server and inside a real Jetty:
 * its recording and checking use the library's API only (the integration tests pack this
 * class into a listener jar). It can forget the connections that ended, so that a soak keeps
 * a flat heap.</p>
 */
public class Recorder implements ConnStateListener
{
    /** How many violations are kept word for word, for the failure message; all are counted. */
    private static final int KEPT_VIOLATIONS = 50;

    /** One connection as the recorder saw it. */
    public static final class Connection
    {
        public final long id;
        /** The socket's peer at {@code new} (before any PROXY header), or null if it is not an IP socket. */
        public final InetSocketAddress remote;
        /** The server's port at {@code new}, or -1 if it is not an IP socket. */
        public final int localPort;
        private final List<ConnStateEvent> events = new ArrayList<>(6);
        private volatile boolean ended;

        private Connection(long id, InetSocketAddress remote, int localPort)
        {
            this.id = id;
            this.remote = remote;
            this.localPort = localPort;
        }

        public synchronized List<ConnState> states()
        {
            return events.stream().map(ConnStateEvent::state).toList();
        }

        public synchronized List<ConnStateEvent> events()
        {
            return List.copyOf(events);
        }

        /** True once a terminal state ({@code closed}, {@code hijacked}) was recorded. */
        public boolean ended()
        {
            return ended;
        }

        @Override
        public String toString()
        {
            return "#" + id + " " + remote + " " + states();
        }
    }

    private final Map<Long, Connection> connections = new ConcurrentHashMap<>();
    private final Map<Integer, Long> idByClientPort = new ConcurrentHashMap<>();
    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicLong violationCount = new AtomicLong();
    private final AtomicLong eventCount = new AtomicLong();

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        eventCount.incrementAndGet();
        if (conn.state() != state)
            violation("#" + conn.id() + ": state argument " + state + " but conn.state() " + conn.state());
        Connection connection;
        if (state == ConnState.NEW)
        {
            InetSocketAddress remote = conn.remote() instanceof InetSocketAddress inet ? inet : null;
            int localPort = conn.local() instanceof InetSocketAddress inet ? inet.getPort() : -1;
            connection = new Connection(conn.id(), remote, localPort);
            Connection before = connections.putIfAbsent(conn.id(), connection);
            if (before != null)
            {
                violation("#" + conn.id() + ": a second new after " + before.states());
                connection = before;
            }
        }
        else
        {
            connection = connections.get(conn.id());
            if (connection == null)
            {
                violation("#" + conn.id() + ": first state " + state + " (no new, or after the connection was forgotten)");
                return;
            }
        }
        synchronized (connection)
        {
            List<ConnStateEvent> events = connection.events;
            if (!events.isEmpty())
            {
                ConnState last = events.get(events.size() - 1).state();
                if (!last.canTransitionTo(state))
                    violation("#" + conn.id() + ": illegal " + last + " -> " + state + " after " + connection.states());
                if (conn.previous() != last)
                    violation("#" + conn.id() + ": previous " + conn.previous() + " but last seen " + last);
            }
            events.add(conn.snapshot());
            if (state.isTerminal())
                connection.ended = true;
        }
        // Last: whoever finds the connection by its port finds its new recorded.
        if (state == ConnState.NEW && connection.remote != null)
            idByClientPort.putIfAbsent(connection.remote.getPort(), conn.id());
    }

    private void violation(String what)
    {
        if (violationCount.incrementAndGet() <= KEPT_VIOLATIONS)
            violations.add(what);
    }

    /** The first violations seen (at most 50; {@link #violationCount()} counts them all). */
    public List<String> violations()
    {
        return List.copyOf(violations);
    }

    public long violationCount()
    {
        return violationCount.get();
    }

    /** How many events were recorded, forgotten connections' included. */
    public long eventCount()
    {
        return eventCount.get();
    }

    public List<ConnState> sequence(long id)
    {
        Connection connection = connections.get(id);
        return connection == null ? List.of() : connection.states();
    }

    public List<ConnStateEvent> events(long id)
    {
        Connection connection = connections.get(id);
        return connection == null ? List.of() : connection.events();
    }

    /** The ids of the connections seen (and not forgotten) so far. */
    public Set<Long> ids()
    {
        return Set.copyOf(connections.keySet());
    }

    /** The connections seen (and not forgotten) so far, by id. */
    public Map<Long, Connection> connections()
    {
        return Map.copyOf(connections);
    }

    public int connectionCount()
    {
        return connections.size();
    }

    public boolean isTerminated(long id)
    {
        Connection connection = connections.get(id);
        return connection != null && connection.ended;
    }

    public boolean allTerminated()
    {
        return connections.values().stream().allMatch(Connection::ended);
    }

    /** The connections that have not ended, for failure messages. */
    public List<String> open()
    {
        return connections.values().stream().filter(c -> !c.ended).map(Connection::toString).toList();
    }

    /** Forgets and returns the connections that ended. */
    public List<Connection> removeEnded()
    {
        List<Connection> ended = new ArrayList<>();
        connections.values().removeIf(c ->
        {
            if (!c.ended)
                return false;
            ended.add(c);
            if (c.remote != null)
                idByClientPort.remove(c.remote.getPort(), c.id);
            return true;
        });
        return ended;
    }

    /** The id of the connection whose client port is {@code port}, waiting until the server has reported its {@code new}. */
    public long idOfClientPort(int port)
    {
        Wait.until("a connection from client port " + port, () -> idByClientPort.containsKey(port));
        return idByClientPort.get(port);
    }

    /** Waits until the connection from client port {@code port} has ended, and returns its sequence. */
    public List<ConnState> awaitEnd(int clientPort)
    {
        long id = idOfClientPort(clientPort);
        Wait.until("the end of connection #" + id, Wait.TIMEOUT, () -> sequence(id), states -> isTerminated(id));
        return sequence(id);
    }

    /** Waits until {@code count} connections were seen and all have ended; returns their sequences by id. */
    public Map<Long, List<ConnState>> awaitAllEnded(int count)
    {
        Wait.until(count + " ended connections", Wait.TIMEOUT, this::open, open -> connections.size() >= count && allTerminated());
        return connections.keySet().stream().collect(Collectors.toMap(id -> id, this::sequence));
    }
    /** The sequence of a connection that served {@code requests} requests, kept alive, then closed. */
    public static List<ConnState> keepAlive(int requests)
    {
        List<ConnState> result = new ArrayList<>(List.of(ConnState.NEW));
        for (int i = 0; i < requests; i++)
        {
            result.add(ConnState.ACTIVE);
            result.add(ConnState.IDLE);
        }
        result.add(ConnState.CLOSED);
        return result;
    }

    /** A sink that blocks on {@code never} on its first event, until its queue interrupts it at stop. */
    public static ConnStateListener blockingUntilInterrupted(CountDownLatch never)
    {
        return (conn, state) ->
        {
            try
            {
                never.await();
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
            }
        };
    }

    public static List<ConnState> seq(String... states)
    {
        List<ConnState> result = new ArrayList<>();
        for (String s : states)
            result.add(ConnState.of(s));
        return result;
    }
}
