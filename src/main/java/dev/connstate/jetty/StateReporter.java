package dev.connstate.jetty;

import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves a connection to its next state and reports the transition to every listener, counting
 * what it reports.
 *
 * <p>Called with the connection's lock held, on the Jetty thread that caused the transition:
 * inline listeners run there, queued listeners get an immutable {@link ConnStateEvent} stamped
 * with the transition's time. The listener arrays are copied on write, so a transition reads them
 * without a lock.</p>
 */
final class StateReporter
{
    private static final Logger LOG = LoggerFactory.getLogger(StateReporter.class);
    private static final ConnStateListener[] NONE = new ConnStateListener[0];

    private volatile ConnStateListener[] inlineListeners = NONE;
    private volatile QueuedListener[] queuedListeners = new QueuedListener[0];
    private final LongAdder opened = new LongAdder();
    private final LongAdder closed = new LongAdder();
    private final LongAdder hijacked = new LongAdder();
    private final LongAdder illegalTransitions = new LongAdder();
    private final LongAdder listenerErrors = new LongAdder();
    private final AtomicBoolean illegalLogged = new AtomicBoolean();
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10, TimeUnit.SECONDS);

    synchronized void addInline(ConnStateListener listener)
    {
        inlineListeners = append(inlineListeners, listener);
    }

    synchronized void addQueued(QueuedListener listener)
    {
        queuedListeners = append(queuedListeners, listener);
    }

    /**
     * @return whether {@code listener} was an inline listener, now removed
     */
    synchronized boolean removeInline(ConnStateListener listener)
    {
        ConnStateListener[] left = Arrays.stream(inlineListeners).filter(l -> l != listener).toArray(ConnStateListener[]::new);
        boolean found = left.length != inlineListeners.length;
        inlineListeners = left;
        return found;
    }

    /**
     * @param listener a queue, or the listener it feeds
     * @return the queue removed, {@code null} if none was found
     */
    synchronized QueuedListener removeQueued(ConnStateListener listener)
    {
        for (QueuedListener queue : queuedListeners)
        {
            if (queue == listener || queue.getListener() == listener)
            {
                queuedListeners = Arrays.stream(queuedListeners).filter(q -> q != queue).toArray(QueuedListener[]::new);
                return queue;
            }
        }
        return null;
    }

    QueuedListener[] queuedListeners()
    {
        return queuedListeners.clone();
    }

    /** A connection was accepted and registered: reports {@code new}. */
    void announceNew(TrackedConnection conn)
    {
        opened.increment();
        notifyListeners(conn, ConnState.NEW);
    }

    /**
     * Moves {@code conn} to {@code next} now and tells the listeners.
     *
     * @return whether the transition was legal and happened
     */
    boolean transition(TrackedConnection conn, ConnState next)
    {
        return transition(conn, next, System.nanoTime());
    }

    /**
     * @param atNanos when the transition happened ({@link System#nanoTime()}), not before the
     * current state was entered
     * @return whether the transition was legal and happened
     */
    boolean transition(TrackedConnection conn, ConnState next, long atNanos)
    {
        ConnState from = conn.state();
        if (!conn.moveTo(next, atNanos))
        {
            illegalTransitions.increment();
            if (illegalLogged.compareAndSet(false, true))
                LOG.warn("Refused illegal transition {} -> {} of connection {}: a bug of jetty-connstate, please report it (further ones are only counted in illegalTransitions)", from, next, conn);
            return false;
        }
        // A cap per client counts its connections in new.
        if (from == ConnState.NEW)
        {
            ClientLimits.Client client = conn.client();
            if (client != null)
                client.leftNew();
        }
        // No per-state counters to move: the gauges count the registry when read, which keeps
        // a request's two transitions free of shared writes.
        if (next.isTerminal())
            (next == ConnState.CLOSED ? closed : hijacked).increment();
        notifyListeners(conn, next);
        return true;
    }

    private void notifyListeners(TrackedConnection conn, ConnState state)
    {
        for (ConnStateListener listener : inlineListeners)
        {
            try
            {
                if (listener.wants(state))
                    listener.onStateChange(conn, state);
            }
            catch (Throwable x)
            {
                listenerErrors.increment();
                errorLog.warn("Inline listener failed:", listener, x);
            }
        }
        // One event for all the queues that want it; none if none does.
        ConnStateEvent event = null;
        for (QueuedListener listener : queuedListeners)
        {
            if (!listener.wants(state))
                continue;
            if (event == null)
                event = conn.snapshot();
            listener.onStateChange(event, state);
        }
    }

    long opened()
    {
        return opened.sum();
    }

    long closed()
    {
        return closed.sum();
    }

    long hijacked()
    {
        return hijacked.sum();
    }

    long illegalTransitions()
    {
        return illegalTransitions.sum();
    }

    long listenerErrors()
    {
        return listenerErrors.sum();
    }

    private static <T> T[] append(T[] array, T element)
    {
        T[] result = Arrays.copyOf(array, array.length + 1);
        result[array.length] = element;
        return result;
    }
}
