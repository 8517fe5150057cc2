package dev.connstate.jetty;

import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;

/**
 * Closes connections whose request head does not arrive in time, as Go's
 * {@code ReadHeaderTimeout} and Kestrel's {@code RequestHeadersTimeout} do: the defence against
 * clients that connect and send nothing, or trickle a head a byte at a time, which Jetty's idle
 * timeout (reset by every byte) lets stay for ever.
 *
 * <p>Off by default ({@link #getTimeoutMillis()} 0). When on:</p>
 * <ul>
 *   <li>a connection's first request must be complete within the timeout of its accept: the TLS
 *   handshake, the PROXY header and the HTTP/1 head, or the first HTTP/2 HEADERS (until then the
 *   connection is {@code new});</li>
 *   <li>every later HTTP/1 request head must be complete within the timeout of its first byte;</li>
 *   <li>otherwise the connection is closed, reason {@code request_header_timeout}. A request that
 *   reached the handler ({@code active}) is never cut, and bodies are not timed.</li>
 * </ul>
 *
 * <p>The {@link DeadlineScan} looks at every connection every twentieth of the timeout (between
 * 10 ms and 1 s), never on a Jetty thread: a connection closes at most that late, and the first
 * byte of a later head is known to that precision.</p>
 */
@ManagedObject("Closes connections whose request head is not complete in time")
public class RequestHeaderTimeout implements DeadlineScan.Deadline
{
    private volatile long timeoutMillis;
    private volatile Runnable changed = () -> { };

    /** @param changed called when the timeout changes: the scan adapts */
    void onChange(Runnable changed)
    {
        this.changed = changed;
    }

    /** @return how long (ms) a request head may take; 0 when off */
    @ManagedAttribute("Milliseconds a request head may take, from the accept for the first, from its first byte for later ones (jetty.connstate.requestHeaderTimeout); 0: off")
    public long getTimeoutMillis()
    {
        return timeoutMillis;
    }

    /**
     * @param timeoutMillis how long (ms) a request head may take (the first from the accept, later
     * ones from their first byte) before the connection is closed, reason
     * {@code request_header_timeout}; 0 turns it off. Takes effect at once, also while running.
     * @throws IllegalArgumentException if negative
     */
    public void setTimeoutMillis(long timeoutMillis)
    {
        if (timeoutMillis < 0)
            throw new IllegalArgumentException("The request header timeout must not be negative: " + timeoutMillis);
        this.timeoutMillis = timeoutMillis;
        changed.run();
    }

    @Override
    public long scanMillis()
    {
        long timeout = timeoutMillis;
        return timeout == 0 ? 0 : Math.max(10, Math.min(1000, timeout / 20));
    }

    @Override
    public void check(TrackedConnection conn, long nowNanos)
    {
        long timeout = timeoutMillis;
        if (timeout == 0)
            return;
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(timeout);
        ConnState state = conn.state();
        if (state == ConnState.NEW)
        {
            if (nowNanos - conn.openedNanos() >= timeoutNanos)
                close(conn);
        }
        else if (state == ConnState.IDLE && Http1Requests.requestBegun(conn))
        {
            // The head's first byte is known to a scan's precision: when a scan first saw it.
            long begun = conn.headBegunNanos();
            if (begun == 0)
                conn.headBegun(nowNanos);
            else if (nowNanos - begun >= timeoutNanos)
                close(conn);
        }
        else
            conn.headBegun(0);
    }

    @Override
    public void off(TrackedConnection conn)
    {
        conn.headBegun(0);
    }

    /** Closes {@code conn}, whose head is late; the HTTP/1 connection first loses the socket, so that a head completing now is never handled. */
    private static void close(TrackedConnection conn)
    {
        CloseReasons.requestHeaderTimedOut(conn);
        Http1Requests.refuseNext(conn);
        conn.abort();
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{timeoutMillis=%d}", getClass().getSimpleName(), hashCode(), timeoutMillis);
    }
}
