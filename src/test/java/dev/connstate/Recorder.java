package dev.connstate;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Records every connection's sequence and checks the contract's invariants on every event
 * (one {@code new} first, legal steps only, nothing after a terminal state). Works as an inline
 * or a queued listener.
 */
public class Recorder implements ConnStateListener
{
    public static final Duration TIMEOUT = Duration.ofSeconds(15);

    private final Map<Long, List<ConnState>> sequences = new ConcurrentHashMap<>();
    private final Map<Long, List<ConnStateEvent>> events = new ConcurrentHashMap<>();
    private final Map<Integer, Long> idByRemotePort = new ConcurrentHashMap<>();
    private final List<String> violations = new CopyOnWriteArrayList<>();

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        if (conn.state() != state)
            violations.add("#" + conn.id() + ": state argument " + state + " but conn.state() " + conn.state());
        List<ConnState> seq = sequences.computeIfAbsent(conn.id(), id -> new ArrayList<>());
        synchronized (seq)
        {
            if (seq.isEmpty() && state != ConnState.NEW)
                violations.add("#" + conn.id() + ": first state " + state);
            if (!seq.isEmpty())
            {
                ConnState last = seq.get(seq.size() - 1);
                if (!last.canTransitionTo(state))
                    violations.add("#" + conn.id() + ": illegal " + last + " -> " + state + " after " + seq);
                if (conn.previous() != last)
                    violations.add("#" + conn.id() + ": previous " + conn.previous() + " but last seen " + last);
            }
            seq.add(state);
        }
        events.computeIfAbsent(conn.id(), id -> new CopyOnWriteArrayList<>()).add(conn.snapshot());
        if (conn.remote() instanceof InetSocketAddress address)
            idByRemotePort.putIfAbsent(address.getPort(), conn.id());
    }

    public List<String> violations()
    {
        return violations;
    }

    public List<ConnState> sequence(long id)
    {
        List<ConnState> seq = sequences.get(id);
        if (seq == null)
            return List.of();
        synchronized (seq)
        {
            return List.copyOf(seq);
        }
    }

    public List<ConnStateEvent> events(long id)
    {
        return List.copyOf(events.getOrDefault(id, List.of()));
    }

    /** The ids of the connections seen so far. */
    public Set<Long> ids()
    {
        return Set.copyOf(sequences.keySet());
    }

    public int connectionCount()
    {
        return sequences.size();
    }

    public boolean isTerminated(long id)
    {
        List<ConnState> seq = sequence(id);
        return !seq.isEmpty() && seq.get(seq.size() - 1).isTerminal();
    }

    public boolean allTerminated()
    {
        return sequences.keySet().stream().allMatch(this::isTerminated);
    }

    /** The id of the connection whose client port is {@code port}, waiting until it is seen. */
    public long idOfClientPort(int port)
    {
        await("a connection from client port " + port, () -> idByRemotePort.containsKey(port));
        return idByRemotePort.get(port);
    }

    /** Waits until the connection from client port {@code port} has ended, and returns its sequence. */
    public List<ConnState> awaitEnd(int clientPort)
    {
        long id = idOfClientPort(clientPort);
        await("the end of connection #" + id, () -> isTerminated(id));
        return sequence(id);
    }

    /** Waits until {@code count} connections were seen and all have ended; returns their sequences by id. */
    public Map<Long, List<ConnState>> awaitAllEnded(int count)
    {
        await(count + " ended connections", () -> sequences.size() >= count && allTerminated());
        return sequences.keySet().stream().collect(Collectors.toMap(id -> id, this::sequence));
    }

    public static void await(String what, BooleanSupplier condition)
    {
        await(what, condition, TIMEOUT);
    }

    public static void await(String what, BooleanSupplier condition, Duration timeout)
    {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
                fail("Timed out after " + timeout + " waiting for " + what);
            try
            {
                Thread.sleep(5);
            }
            catch (InterruptedException x)
            {
                Thread.currentThread().interrupt();
                fail("Interrupted waiting for " + what);
            }
        }
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
    public static ConnStateListener blockingUntilInterrupted(java.util.concurrent.CountDownLatch never)
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
