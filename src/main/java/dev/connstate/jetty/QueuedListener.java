package dev.connstate.jetty;

import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds a listener through a bounded queue drained by the listener's own daemon thread, so
 * that the listener's I/O, slowness or failures never reach a Jetty thread.
 *
 * <p>{@link #onStateChange(ConnInfo, ConnState)} never blocks: it copies the transition into a
 * {@link ConnStateEvent} and offers it; when the queue is full the event is dropped and
 * counted. One thread delivers, so the events of a connection arrive in order. A listener that
 * throws is counted and logged (at most once every 10 seconds) and gets the next event.
 * Once it has delivered every event there was, the delivery thread lets new ones gather: the
 * Jetty thread that queues the {@value #WAKE_AT}th waiting event wakes it (fewer with a small
 * queue), or, at lower rates, its own timer after {@value #LINGER_MILLIS} ms; then it takes them
 * all in one go. Under load that is one wake-up of that thread per batch, not one per event,
 * and a wake-up by another thread rather than by a timer: on a core Jetty uses too, a thread
 * woken by its own timer spent about three times the CPU of one woken by another thread (14-17
 * against 5-6 us per wake-up, src/bench/FINDINGS.md). If none came, it sleeps until the next event wakes it. A
 * listener that is {@link Flushable} is flushed each time it has been given every queued event,
 * so it may buffer its output and still have it written out at once when the server is quiet,
 * and within {@value #LINGER_MILLIS} ms under load.
 * Stopping delivers what is queued within the delivery timeout, counts the rest as dropped, then
 * closes the listener if it is {@link Closeable}.</p>
 */
@ManagedObject("A listener fed through a bounded queue by its own thread")
public class QueuedListener extends AbstractLifeCycle implements ConnStateListener
{
    private static final Logger LOG = LoggerFactory.getLogger(QueuedListener.class);
    private static final VarHandle DELIVERED;
    private static final VarHandle TAIL;
    private static final VarHandle HEAD;

    static
    {
        try
        {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            DELIVERED = lookup.findVarHandle(QueuedListener.class, "delivered", long.class);
            TAIL = lookup.findVarHandle(QueuedListener.class, "tail", long.class);
            HEAD = lookup.findVarHandle(QueuedListener.class, "head", long.class);
        }
        catch (ReflectiveOperationException x)
        {
            throw new ExceptionInInitializerError(x);
        }
    }

    /** The largest queue capacity. */
    public static final int MAX_CAPACITY = 1 << 30;
    /**
     * How long the delivery thread lets events gather at most after it has delivered all there
     * were: the timer that ends a batch when fewer than {@link #WAKE_AT} events came.
     */
    private static final long LINGER_MILLIS = 10;
    private static final long LINGER_NANOS = TimeUnit.MILLISECONDS.toNanos(LINGER_MILLIS);
    /**
     * Events that wake a lingering delivery thread; fewer with a small queue. Under load the
     * batches are this big: at 200k events a second, about one wake-up per millisecond.
     */
    private static final int WAKE_AT = 256;
    /** How long it sleeps at most, to notice stopping even if no one wakes it. */
    private static final long SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private final String name;
    private final ConnStateListener listener;
    /** The states its listener wants, one bit per ordinal, asked once. */
    private final int wanted;
    // A bounded lock-free ring: a Jetty thread claims a position with one compare-and-set on the
    // tail and stores its event there; the one delivery thread takes positions in order. No node
    // per event, no counter beside the two positions, and no lock; Jetty threads wake the delivery
    // thread only when it sleeps, not on every event. The events of one connection are offered
    // under its lock, so their positions follow the order of its transitions.
    private final AtomicReferenceArray<ConnStateEvent> ring;
    private final int mask;
    /** The next position to claim; advanced by Jetty threads. */
    private volatile long tail;
    /** The next position to deliver; advanced by the delivery thread only, after it cleared the slot. */
    private volatile long head;
    private final int capacity;
    /** How many queued events wake the delivery thread while it lingers. */
    private final int wakeAt;
    private volatile boolean sleeping;
    /** Read when stopping; the tracker's setting changes it whenever it is set. */
    private volatile long deliveryTimeoutMillis;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder errors = new LongAdder();
    /** Events delivered; written by the thread that owns the queue only (see {@link #deliver()}). */
    private volatile long delivered;
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10, TimeUnit.SECONDS);
    private volatile Thread thread;
    private volatile boolean stopping;

    /**
     * @param name the name of the listener, used for its thread ({@code connstate-NAME})
     * @param listener the listener to feed
     * @param capacity how many events may wait; more are dropped
     * @param deliveryTimeoutMillis how long stopping waits for queued events to be delivered
     */
    public QueuedListener(String name, ConnStateListener listener, int capacity, long deliveryTimeoutMillis)
    {
        if (capacity < 1 || capacity > MAX_CAPACITY)
            throw new IllegalArgumentException("Queue capacity must be between 1 and " + MAX_CAPACITY + ", not " + capacity);
        this.name = name;
        this.listener = listener;
        this.wanted = wanted(listener);
        this.capacity = capacity;
        // A power of two, so that a position maps to its slot with a mask.
        this.ring = new AtomicReferenceArray<>(Integer.highestOneBit(Math.max(1, capacity - 1)) << 1);
        this.mask = ring.length() - 1;
        this.wakeAt = Math.min(WAKE_AT, (capacity + 1) / 2);
        setDeliveryTimeoutMillis(deliveryTimeoutMillis);
    }

    /** @return the states {@code listener} {@link ConnStateListener#wants wants}, one bit per ordinal */
    static int wanted(ConnStateListener listener)
    {
        int bits = 0;
        for (ConnState state : ConnState.values())
        {
            if (listener.wants(state))
                bits |= 1 << state.ordinal();
        }
        return bits;
    }

    /** Whether its listener wants {@code state}: asked when it was added. */
    @Override
    public boolean wants(ConnState state)
    {
        return (wanted & 1 << state.ordinal()) != 0;
    }

    /**
     * @param deliveryTimeoutMillis how long stopping waits for queued events to be delivered; takes effect
     * at the next stop
     */
    public void setDeliveryTimeoutMillis(long deliveryTimeoutMillis)
    {
        if (deliveryTimeoutMillis < 0)
            throw new IllegalArgumentException("Delivery timeout must not be negative: " + deliveryTimeoutMillis);
        this.deliveryTimeoutMillis = deliveryTimeoutMillis;
    }

    @ManagedAttribute("Milliseconds stopping waits for queued events to be delivered")
    public long getDeliveryTimeoutMillis()
    {
        return deliveryTimeoutMillis;
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        if (stopping)
        {
            dropped.increment();
            return;
        }
        long position;
        do
        {
            position = (long)TAIL.getVolatile(this);
            // Full: capacity events wait. The slot at a position the delivery thread has passed
            // is already cleared (it clears a slot before it moves the head past it).
            if (position - (long)HEAD.getAcquire(this) >= capacity)
            {
                dropped.increment();
                return;
            }
        }
        while (!TAIL.compareAndSet(this, position, position + 1));
        // The delivery thread waits for this slot to be filled before it takes later ones.
        ring.setRelease((int)position & mask, conn.snapshot());
        // Read after the event is in; the delivery thread sets it before it looks at the ring a
        // last time: either it sees this event, or this sees it asleep. While it lingers, it is
        // woken only if the ring fills up.
        if (sleeping || position + 1 - head == wakeAt)
            LockSupport.unpark(thread);
    }

    /**
     * Takes the next event, or {@code null} if there is none yet (or the Jetty thread that
     * claimed its slot has not filled it yet). Delivery thread only.
     */
    private ConnStateEvent poll()
    {
        long position = head;
        int slot = (int)position & mask;
        ConnStateEvent event = ring.getAcquire(slot);
        if (event != null)
        {
            // Cleared before the head moves: a Jetty thread that sees the new head may fill it.
            ring.setPlain(slot, null);
            HEAD.setRelease(this, position + 1);
        }
        return event;
    }

    /** Whether an event is claimed but not delivered yet. */
    private boolean isEmpty()
    {
        return tail == head;
    }

    /** Empties the ring (no delivery thread running). */
    private int clear()
    {
        int left = (int)Math.max(0, tail - head);
        for (int i = 0; i < ring.length(); i++)
            ring.set(i, null);
        head = tail;
        return left;
    }

    @Override
    protected void doStart() throws Exception
    {
        // An event offered while the last stop was clearing the queue must not surface now.
        clear();
        stopping = false;
        Thread t = new Thread(this::deliver, "connstate-" + name);
        t.setDaemon(true);
        thread = t;
        t.start();
        super.doStart();
    }

    private void deliver()
    {
        Thread self = Thread.currentThread();
        boolean unflushed = false;
        // Until a stop gives up on this thread (its listener did not return in time): then the
        // queue is no longer its own, a restart may give it to another thread.
        while (thread == self)
        {
            ConnStateEvent event = poll();
            if (event != null)
            {
                unflushed = true;
                // Counted here, by the one thread that owns the queue: no atomic update per event.
                if (deliver(event) && thread == self)
                    DELIVERED.setOpaque(this, delivered + 1);
                continue;
            }
            if (stopping)
            {
                flush();
                return;
            }
            // Everything given is delivered: write out what the listener buffered.
            if (unflushed)
            {
                unflushed = false;
                flush();
            }
            // Under load more events come: let them gather, then take them all in one go (a
            // wake-up and two thread switches per batch, not per event or two). The Jetty thread
            // that queues the WAKE_AT-th event wakes it (see onStateChange); the timer only ends
            // the batches of lower rates, as a timed wake-up costs more.
            LockSupport.parkNanos(LINGER_NANOS);
            if (!isEmpty())
                continue;
            // None came: sleep until the next one wakes it.
            sleeping = true;
            if (isEmpty() && !stopping)
                LockSupport.parkNanos(SLEEP_NANOS);
            sleeping = false;
            if (Thread.interrupted())
                return;
        }
    }

    private void flush()
    {
        if (listener instanceof Flushable flushable)
        {
            try
            {
                flushable.flush();
            }
            catch (Throwable x)
            {
                errors.increment();
                errorLog.warn("Listener failed to flush:", name, x);
            }
        }
    }

    /** @return whether the listener took it without throwing */
    private boolean deliver(ConnStateEvent event)
    {
        try
        {
            listener.onStateChange(event, event.state());
            return true;
        }
        catch (Throwable x)
        {
            errors.increment();
            errorLog.warn("Listener failed:", name, x);
            return false;
        }
    }

    @Override
    protected void doStop() throws Exception
    {
        stopping = true;
        Thread t = thread;
        // Thread.join(0) would wait for ever.
        long deliveryTimeoutMillis = Math.max(1, this.deliveryTimeoutMillis);
        if (t != null)
        {
            LockSupport.unpark(t);
            t.join(deliveryTimeoutMillis);
            if (t.isAlive())
            {
                // A listener blocked for good: give up on it rather than hang the server's stop.
                t.interrupt();
                t.join(Math.min(1000, deliveryTimeoutMillis));
                if (t.isAlive())
                {
                    // It ignores interrupts: its daemon thread is left to it, and the event it holds is lost.
                    dropped.increment();
                    LOG.warn("Listener {} did not return within {} ms of stopping, nor when interrupted; its thread {} is left running", name, deliveryTimeoutMillis, t.getName());
                }
            }
        }
        int left = clear();
        if (left > 0)
        {
            dropped.add(left);
            LOG.warn("Listener {} did not take {} events within {} ms of stopping; they are dropped", name, left, deliveryTimeoutMillis);
        }
        if (listener instanceof Closeable closeable)
        {
            try
            {
                closeable.close();
            }
            catch (IOException x)
            {
                LOG.warn("Could not close listener {}", name, x);
            }
        }
        thread = null;
        super.doStop();
    }

    @ManagedAttribute("The name of the listener")
    public String getName()
    {
        return name;
    }

    /**
     * @return the listener this queue feeds
     */
    public ConnStateListener getListener()
    {
        return listener;
    }

    @ManagedAttribute("Events dropped because the queue was full or the listener was stopping")
    public long getDropped()
    {
        return dropped.sum();
    }

    @ManagedAttribute("Events on which the listener threw")
    public long getErrors()
    {
        return errors.sum();
    }

    @ManagedAttribute("Events delivered to the listener")
    public long getDelivered()
    {
        return delivered;
    }

    @ManagedAttribute("Events waiting in the queue")
    public int getQueued()
    {
        return (int)Math.max(0, tail - head);
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x[%s,queued=%d,dropped=%d,errors=%d]", getClass().getSimpleName(), hashCode(), name, getQueued(), getDropped(), getErrors());
    }
}
