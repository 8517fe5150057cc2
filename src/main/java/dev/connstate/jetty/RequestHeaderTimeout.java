package dev.connstate.jetty;

import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
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
public class RequestHeaderTimeout extends ScannedTimeout
{
    RequestHeaderTimeout()
    {
        super("request header timeout");
    }

    @Override
    public void check(TrackedConnection conn, long nowNanos)
    {
        long timeout = getTimeoutMillis();
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
}
