package dev.connstate.stress;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;

/**
 * Records every connection's sequence and checks every step against the state machine, like
 * {@link dev.connstate.Recorder}, but small per connection and able to forget the connections
 * that ended (so a soak run keeps a flat heap). Works inline and queued.
 */
final class StressRecorder implements ConnStateListener
{
    /** One connection as seen by this listener. */
    static final class Entry
    {
        final long id;
        /** The client address at {@code new}: the socket's peer. */
        final InetSocketAddress remote;
        /** The server port at {@code new}. */
        final int localPort;
        final List<ConnState> states = new ArrayList<>(6);
        volatile boolean ended;

        Entry(long id, InetSocketAddress remote, int localPort)
        {
            this.id = id;
            this.remote = remote;
            this.localPort = localPort;
        }

        synchronized List<ConnState> states()
        {
            return List.copyOf(states);
        }
    }

    private final Map<Long, Entry> entries = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    private final AtomicLong violationCount = new AtomicLong();
    private final AtomicLong events = new AtomicLong();

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        events.incrementAndGet();
        if (conn.state() != state)
            violation("#" + conn.id() + ": state argument " + state + " but conn.state() " + conn.state());
        Entry entry;
        if (state == ConnState.NEW)
        {
            InetSocketAddress remote = conn.remote() instanceof InetSocketAddress inet ? inet : null;
            int localPort = conn.local() instanceof InetSocketAddress inet ? inet.getPort() : -1;
            entry = new Entry(conn.id(), remote, localPort);
            Entry before = entries.putIfAbsent(conn.id(), entry);
            if (before != null)
            {
                violation("#" + conn.id() + ": a second new after " + before.states());
                entry = before;
            }
        }
        else
        {
            entry = entries.get(conn.id());
            if (entry == null)
            {
                violation("#" + conn.id() + ": " + state + " without new (or after it was forgotten)");
                return;
            }
        }
        synchronized (entry)
        {
            if (!entry.states.isEmpty())
            {
                ConnState last = entry.states.get(entry.states.size() - 1);
                if (!last.canTransitionTo(state))
                    violation("#" + conn.id() + ": illegal " + last + " -> " + state + " after " + entry.states);
                if (conn.previous() != last)
                    violation("#" + conn.id() + ": previous " + conn.previous() + " but last seen " + last);
            }
            entry.states.add(state);
            if (state.isTerminal())
                entry.ended = true;
        }
    }

    private void violation(String what)
    {
        // Keep the first ones to report, count all.
        if (violationCount.incrementAndGet() <= 50)
            violations.add(what);
    }

    List<String> violations()
    {
        return List.copyOf(violations);
    }

    long violationCount()
    {
        return violationCount.get();
    }

    long events()
    {
        return events.get();
    }

    int size()
    {
        return entries.size();
    }

    boolean allEnded()
    {
        for (Entry e : entries.values())
        {
            if (!e.ended)
                return false;
        }
        return true;
    }

    Map<Long, Entry> entries()
    {
        return Map.copyOf(entries);
    }

    /** The connections that have not ended, for failure messages. */
    List<String> open()
    {
        List<String> open = new ArrayList<>();
        for (Entry e : entries.values())
        {
            if (!e.ended)
                open.add("#" + e.id + " " + e.remote + " " + e.states());
        }
        return open;
    }

    /** Forgets and returns the connections that ended. */
    List<Entry> removeEnded()
    {
        List<Entry> ended = new ArrayList<>();
        entries.values().removeIf(e ->
        {
            if (e.ended)
            {
                ended.add(e);
                return true;
            }
            return false;
        });
        return ended;
    }
}
