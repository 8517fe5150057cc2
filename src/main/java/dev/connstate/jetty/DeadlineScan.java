package dev.connstate.jetty;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks the tracked connections on a daemon thread of its own for the deadlines that need a look
 * at each one: the keep-alive timeout and the request header timeout.
 *
 * <p>It runs while one of them is on, as often as the most demanding one asks
 * ({@link Deadline#scanMillis()}), never on a Jetty thread; each deadline looks at each open
 * connection under the connection's lock. A deadline turned on or off calls {@link #changed()}.</p>
 */
final class DeadlineScan extends AbstractLifeCycle
{
    private static final Logger LOG = LoggerFactory.getLogger(DeadlineScan.class);

    /** A deadline the scan looks at every open connection for. */
    interface Deadline
    {
        /** @return how often (ms) it needs a look, 0 while it is off */
        long scanMillis();

        /** Looks at {@code conn}, open, at {@code nowNanos}. Caller holds its lock. */
        void check(TrackedConnection conn, long nowNanos);

        /** It is off, or the scan stops: puts back what it changed on {@code conn}. Caller holds its lock. */
        void off(TrackedConnection conn);
    }

    private final ConnectionRegistry registry;
    private final List<Deadline> deadlines;
    private volatile Thread scanner;

    DeadlineScan(ConnectionRegistry registry, List<Deadline> deadlines)
    {
        this.registry = registry;
        this.deadlines = List.copyOf(deadlines);
    }

    /** A deadline was turned on or off, or changed its period: the scan starts, stops or adapts. */
    void changed()
    {
        if (isRunning())
            start(scanMillis());
        Thread current = scanner;
        if (current != null)
            LockSupport.unpark(current);
    }

    private long scanMillis()
    {
        long millis = 0;
        for (Deadline deadline : deadlines)
        {
            long wanted = deadline.scanMillis();
            if (wanted > 0)
                millis = millis == 0 ? wanted : Math.min(millis, wanted);
        }
        return millis;
    }

    @Override
    protected void doStart() throws Exception
    {
        super.doStart();
        start(scanMillis());
    }

    @Override
    protected void doStop() throws Exception
    {
        Thread current = scanner;
        scanner = null;
        if (current != null)
            LockSupport.unpark(current);
        super.doStop();
    }

    private synchronized void start(long millis)
    {
        if (millis == 0 || scanner != null)
            return;
        Thread thread = new Thread(this::scanWhileOn, "connstate-deadlines");
        thread.setDaemon(true);
        scanner = thread;
        thread.start();
    }

    private void scanWhileOn()
    {
        long millis;
        while (scanner == Thread.currentThread() && (millis = scanMillis()) > 0)
        {
            try
            {
                scan();
            }
            catch (Throwable x)
            {
                LOG.warn("Deadline scan failed", x);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(millis));
        }
        boolean restart = false;
        synchronized (this)
        {
            if (scanner == Thread.currentThread())
            {
                scanner = null;
                // Turned on again while this one was on its way out.
                restart = scanMillis() > 0 && isRunning();
            }
        }
        // What a deadline turned off (or every one, when stopping) changed on the connections is put back.
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                for (Deadline deadline : deadlines)
                {
                    if (deadline.scanMillis() == 0 || !isRunning())
                        deadline.off(conn);
                }
            }
        }
        if (restart)
            start(scanMillis());
    }

    /** One look at every open connection, by every deadline that is on. */
    void scan()
    {
        long now = System.nanoTime();
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    continue;
                for (Deadline deadline : deadlines)
                {
                    if (deadline.scanMillis() > 0)
                        deadline.check(conn, now);
                    else
                        deadline.off(conn);
                }
            }
        }
    }
}
