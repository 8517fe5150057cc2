package dev.connstate.jetty;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import dev.connstate.ConnState;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes connections that stay {@code idle} longer than the keep-alive timeout, apart from the
 * connector's idle timeout, as Kestrel's {@code KeepAliveTimeout} does.
 *
 * <p>Off by default ({@link #getTimeoutMillis()} 0): the connector's idle timeout closes idle
 * connections, as in plain Jetty. When on, it applies to {@code idle} connections only: an HTTP/1
 * connection between requests, an HTTP/2 connection with no stream open (closed with a GOAWAY).
 * The connector's idle timeout keeps applying in every other state; the keep-alive timeout may be
 * shorter or longer than it. A longer one raises the socket's idle timeout when the connection
 * goes idle (one field write, never a reschedule on the request's thread); this class lowers it
 * again once the connection is busy.</p>
 *
 * <p>A daemon thread of its own scans the connections every {@link #scanMillis()} (a twentieth of
 * the timeout, between 10 ms and 1 s), never a Jetty thread. A connection idle for the timeout is
 * closed by {@link IdleClose}, which looks for a request's bytes first and counts a request that
 * races the close. Its {@code closed} carries the reason {@code keep_alive_timeout}.</p>
 */
@ManagedObject("Closes connections idle longer than the keep-alive timeout")
public class KeepAliveTimeout extends AbstractLifeCycle
{
    private static final Logger LOG = LoggerFactory.getLogger(KeepAliveTimeout.class);

    private final ConnectionRegistry registry;
    private final IdleClose idleClose;
    private volatile long timeoutMillis;
    private volatile Thread scanner;

    KeepAliveTimeout(ConnectionRegistry registry, IdleClose idleClose)
    {
        this.registry = registry;
        this.idleClose = idleClose;
    }

    /** @return how long (ms) a connection may stay idle before it is closed; 0 when the connector's idle timeout decides */
    @ManagedAttribute("Milliseconds a connection may stay idle before it is closed (jetty.connstate.keepAliveTimeout); 0: the connector's idle timeout")
    public long getTimeoutMillis()
    {
        return timeoutMillis;
    }

    /**
     * @param timeoutMillis how long (ms) a connection may stay {@code idle} before it is closed,
     * reason {@code keep_alive_timeout}; 0 turns it off (the connector's idle timeout decides, as
     * in plain Jetty). Takes effect at once, also while running.
     * @throws IllegalArgumentException if negative
     */
    public void setTimeoutMillis(long timeoutMillis)
    {
        if (timeoutMillis < 0)
            throw new IllegalArgumentException("The keep-alive timeout must not be negative: " + timeoutMillis);
        this.timeoutMillis = timeoutMillis;
        if (isRunning())
            startScanner();
    }

    /** How often the scanner looks: often enough for the timeout's precision, at most once a second. */
    long scanMillis()
    {
        return Math.max(10, Math.min(1000, timeoutMillis / 20));
    }

    @Override
    protected void doStart() throws Exception
    {
        startScanner();
        super.doStart();
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

    private synchronized void startScanner()
    {
        if (timeoutMillis == 0 || scanner != null)
            return;
        Thread thread = new Thread(this::scanWhileRunning, "connstate-keepalive");
        thread.setDaemon(true);
        scanner = thread;
        thread.start();
    }

    private void scanWhileRunning()
    {
        while (scanner == Thread.currentThread() && timeoutMillis > 0)
        {
            try
            {
                scan();
            }
            catch (Throwable x)
            {
                LOG.warn("Keep-alive scan failed", x);
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(scanMillis()));
        }
        boolean restart = false;
        synchronized (this)
        {
            if (scanner == Thread.currentThread())
            {
                scanner = null;
                // Turned on again while this one was on its way out.
                restart = timeoutMillis > 0 && isRunning();
            }
        }
        // Turned off (or stopped): no idle timeout stays raised for a scan that no longer runs.
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                conn.lowerIdleTimeout();
            }
        }
        if (restart)
            startScanner();
    }

    /** Closes the connections idle for the timeout, and lowers the raised idle timeout of busy ones. */
    void scan()
    {
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        if (timeoutNanos == 0)
            return;
        long now = System.nanoTime();
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                ConnState state = conn.state();
                if (state.isTerminal())
                    continue;
                // A request head on its way is no longer a keep-alive wait: the connector's idle
                // timeout applies to it, from its last byte (a trickled head is closed in time).
                if (state != ConnState.IDLE || conn.activeStreams() != 0 || Http1Requests.requestBegun(conn))
                    conn.lowerIdleTimeout();
                if (state == ConnState.IDLE && conn.activeStreams() == 0 && now - conn.sinceNanos() >= timeoutNanos)
                    idleClose.close(conn, IdleClose.Cause.KEEP_ALIVE_TIMEOUT);
            }
        }
    }

    /**
     * A connection goes {@code idle}: with a keep-alive timeout longer than its socket's idle
     * timeout, the socket's is raised past it, so that this closes it (looking for a request
     * first), not Jetty. Caller holds {@code conn}'s lock, on the Jetty thread that ended the request.
     */
    void wentIdle(TrackedConnection conn)
    {
        long timeout = timeoutMillis;
        if (timeout > 0)
            conn.raiseIdleTimeout(timeout + 2 * scanMillis());
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,timeoutMillis=%d}", getClass().getSimpleName(), hashCode(), getState(), timeoutMillis);
    }
}
