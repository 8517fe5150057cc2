package dev.connstate.jetty;

import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
import org.eclipse.jetty.util.annotation.ManagedObject;

/**
 * Closes connections that stay {@code idle} longer than the keep-alive timeout, apart from the
 * connector's idle timeout, as Kestrel's {@code KeepAliveTimeout} does.
 *
 * <p>Off by default ({@link #getTimeoutMillis()} 0): the connector's idle timeout closes idle
 * connections, as in plain Jetty. When on, it applies to {@code idle} connections only: an HTTP/1
 * connection between requests, an HTTP/2 connection with no stream open (closed with a GOAWAY).
 * The connector's idle timeout keeps applying in every other state; the keep-alive timeout may be
 * shorter or longer than it. A longer one raises the socket's idle timeout when the connection
 * goes idle (one field write, never a reschedule on the request's thread); the scan lowers it
 * again once the connection is busy, or a request head begins.</p>
 *
 * <p>The {@link DeadlineScan} looks at every connection every twentieth of the timeout (between
 * 10 ms and 1 s), never on a Jetty thread. A connection idle for the timeout is closed by
 * {@link IdleClose}, which looks for a request's bytes first and counts a request that races the
 * close. Its {@code closed} carries the reason {@code keep_alive_timeout}.</p>
 */
@ManagedObject("Closes connections idle longer than the keep-alive timeout")
public class KeepAliveTimeout extends ScannedTimeout
{
    private final IdleClose idleClose;

    KeepAliveTimeout(IdleClose idleClose)
    {
        super("keep-alive timeout");
        this.idleClose = idleClose;
    }

    /** Closes {@code conn} if idle for the timeout; lowers its raised idle timeout once busy, or a request head begins. */
    @Override
    public void check(TrackedConnection conn, long nowNanos)
    {
        long timeout = getTimeoutMillis();
        if (timeout == 0)
        {
            off(conn);
            return;
        }
        ConnState state = conn.state();
        boolean idle = state == ConnState.IDLE && conn.activeStreams() == 0;
        // A request head on its way is no longer a keep-alive wait: the connector's idle timeout
        // applies to it, from its last byte (a trickled head is closed in time).
        if (!idle || Http1Requests.requestBegun(conn))
            conn.lowerIdleTimeout();
        if (idle && nowNanos - conn.sinceNanos() >= TimeUnit.MILLISECONDS.toNanos(timeout))
            idleClose.close(conn, IdleClose.Cause.KEEP_ALIVE_TIMEOUT);
    }

    @Override
    public void off(TrackedConnection conn)
    {
        conn.lowerIdleTimeout();
    }

    /**
     * A connection goes {@code idle}: with a keep-alive timeout longer than its socket's idle
     * timeout, the socket's is raised past it (by two scans), so that the scan closes it, looking
     * for a request first, not Jetty. Caller holds {@code conn}'s lock, on the Jetty thread that
     * ended the request.
     */
    void wentIdle(TrackedConnection conn)
    {
        long timeout = getTimeoutMillis();
        if (timeout > 0)
            conn.raiseIdleTimeout(timeout + 2 * scanMillis());
    }
}
