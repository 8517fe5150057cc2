package dev.connstate.jetty;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;

import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;

/**
 * Watches one request's {@link HttpStream} for {@link JettyEvents}: the response commit (a 101,
 * or a 2xx to {@code CONNECT}, hands an HTTP/1 connection to the application), an HTTP/2
 * stream's last frame, and the stream's end, which Jetty reports here before it resets the
 * connection for the next request, so the connection's persistence and the upgrade attribute can
 * still be read.
 *
 * <p>Made by {@link JettyEvents#customize} for HTTP/2 streams and for HTTP/1 requests that may
 * take the connection over; its calls come on the threads that send and complete the stream.</p>
 */
final class RequestObserver extends HttpStream.Wrapper
{
    private static final VarHandle ENDED;

    static
    {
        try
        {
            ENDED = MethodHandles.lookup().findVarHandle(RequestObserver.class, "ended", boolean.class);
        }
        catch (ReflectiveOperationException x)
        {
            throw new ExceptionInInitializerError(x);
        }
    }

    private final JettyEvents events;
    private final TrackedConnection conn;
    private final Request request;
    private final boolean multiplexed;
    /** The committed response's status, 0 until then; read at the end of the stream, on the same or a later thread. */
    private volatile int status;
    /** Whether this HTTP/2 stream no longer counts as active (its last frame, then its completion, may both say so). */
    private volatile boolean ended;

    RequestObserver(HttpStream stream, JettyEvents events, TrackedConnection conn, Request request, boolean multiplexed)
    {
        super(stream);
        this.events = events;
        this.conn = conn;
        this.request = request;
        this.multiplexed = multiplexed;
    }

    @Override
    public void send(MetaData.Request metaData, MetaData.Response response, boolean last, ByteBuffer content, Callback callback)
    {
        if (response != null)
        {
            status = response.getStatus();
            if (!multiplexed && takesOver(status))
                events.takenOver(conn);
        }
        // An HTTP/2 stream ends for the client with the last of its response, which may come
        // before Jetty completes the stream: the client may already have sent its next request,
        // or closed. Ending it here, before the bytes go out, keeps the order the client sees.
        if (last && multiplexed)
            events.streamEnded(conn, this, null);
        super.send(metaData, response, last, content, callback);
    }

    /**
     * @return whether this call ended the stream: only the first of its last frame, its success
     * and its failure does
     */
    boolean end()
    {
        // Cheap check first: the completion usually follows the last frame.
        return !ended && ENDED.compareAndSet(this, false, true);
    }

    private boolean takesOver(int status)
    {
        // HTTP/2 has no 101, and a 2xx to an (extended) CONNECT there tunnels one stream, not the connection.
        return status == HttpStatus.SWITCHING_PROTOCOLS_101 || (HttpStatus.isSuccess(status) && HttpMethod.CONNECT.is(request.getMethod()));
    }

    @Override
    public void succeeded()
    {
        ended(null);
        super.succeeded();
    }

    @Override
    public void failed(Throwable x)
    {
        ended(x);
        super.failed(x);
    }

    private void ended(Throwable failure)
    {
        if (multiplexed)
            events.streamEnded(conn, this, failure);
        else
            events.requestEnded(conn, request, status, failure);
    }
}
