package dev.connstate.jetty;

import java.io.Closeable;
import java.io.Flushable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

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
 * throws is counted and logged (at most once every 10 seconds) and gets the next event. A
 * listener that is {@link Flushable} is flushed each time the queue is empty, so it may buffer
 * its output between flushes.
 * Stopping delivers what is queued within the drain timeout, counts the rest as dropped, then
 * closes the listener if it is {@link Closeable}.</p>
 */
@ManagedObject("A listener fed through a bounded queue by its own thread")
public class QueuedListener extends AbstractLifeCycle implements ConnStateListener
{
    private static final Logger LOG = LoggerFactory.getLogger(QueuedListener.class);
    /** Events taken from the queue at once. */
    private static final int BATCH = 256;

    private final String name;
    private final ConnStateListener listener;
    private final ArrayBlockingQueue<ConnStateEvent> queue;
    private final long drainMillis;
    private final LongAdder dropped = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder delivered = new LongAdder();
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10, TimeUnit.SECONDS);
    private volatile Thread thread;
    private volatile boolean stopping;

    /**
     * @param name the name of the listener, used for its thread ({@code connstate-NAME})
     * @param listener the listener to feed
     * @param capacity how many events may wait; more are dropped
     * @param drainMillis how long stopping waits for queued events to be delivered
     */
    public QueuedListener(String name, ConnStateListener listener, int capacity, long drainMillis)
    {
        if (capacity < 1)
            throw new IllegalArgumentException("Queue capacity must be at least 1, not " + capacity);
        this.name = name;
        this.listener = listener;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.drainMillis = drainMillis;
    }

    @Override
    public void onStateChange(ConnInfo conn, ConnState state)
    {
        if (stopping || !queue.offer(ConnStateEvent.of(conn)))
            dropped.increment();
    }

    @Override
    protected void doStart() throws Exception
    {
        stopping = false;
        Thread t = new Thread(this::deliver, "connstate-" + name);
        t.setDaemon(true);
        thread = t;
        t.start();
        super.doStart();
    }

    private void deliver()
    {
        List<ConnStateEvent> batch = new ArrayList<>(BATCH);
        while (true)
        {
            ConnStateEvent first;
            try
            {
                first = queue.poll(100, TimeUnit.MILLISECONDS);
            }
            catch (InterruptedException x)
            {
                return;
            }
            if (first == null)
            {
                if (stopping)
                    return;
                continue;
            }
            // Take what else is waiting under one lock, rather than one lock and wake-up per event.
            batch.add(first);
            queue.drainTo(batch, BATCH - 1);
            for (ConnStateEvent event : batch)
                deliver(event);
            batch.clear();
            // A sink that buffers (jsonl) writes its buffer out whenever it has caught up: at
            // most one write per batch under load, every line out as soon as the queue is empty.
            if (listener instanceof Flushable flushable && queue.isEmpty())
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
    }

    private void deliver(ConnStateEvent event)
    {
        try
        {
            listener.onStateChange(event, event.state());
            delivered.increment();
        }
        catch (Throwable x)
        {
            errors.increment();
            errorLog.warn("Listener failed:", name, x);
        }
    }

    @Override
    protected void doStop() throws Exception
    {
        stopping = true;
        Thread t = thread;
        if (t != null)
        {
            t.join(drainMillis);
            if (t.isAlive())
            {
                // A listener blocked for good: give up on it rather than hang the server's stop.
                t.interrupt();
                t.join(Math.min(1000, drainMillis));
                if (t.isAlive())
                {
                    // It ignores interrupts: its daemon thread is left to it, and the event it holds is lost.
                    dropped.increment();
                    LOG.warn("Listener {} did not return within {} ms of stopping, nor when interrupted; its thread {} is left running", name, drainMillis, t.getName());
                }
            }
        }
        int left = queue.size();
        queue.clear();
        if (left > 0)
        {
            dropped.add(left);
            LOG.warn("Listener {} did not take {} events within {} ms of stopping; they are dropped", name, left, drainMillis);
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
        return delivered.sum();
    }

    @ManagedAttribute("Events waiting in the queue")
    public int getQueued()
    {
        return queue.size();
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x[%s,queued=%d,dropped=%d,errors=%d]", getClass().getSimpleName(), hashCode(), name, queue.size(), getDropped(), getErrors());
    }
}
