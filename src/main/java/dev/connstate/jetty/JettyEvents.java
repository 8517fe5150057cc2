package dev.connstate.jetty;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLSession;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.TlsInfo;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.internal.HttpConnection;

/**
 * The one place where Jetty's events become {@link ConnState} transitions.
 *
 * <ul>
 *   <li>{@link #onOpened(Connection)}: the first connection seen on a root end point is the
 *   accept: {@code new}. Later ones on the same end point (the HTTP connection inside TLS, the
 *   protocol after a detector or the PROXY header, HTTP/2 after h2c) only update the protocol,
 *   the TLS flag and the addresses.</li>
 *   <li>{@link #customize(Request, HttpFields.Mutable)}: a request head was read, the handler
 *   is about to run: {@code active} (HTTP/2: only on the first of the concurrent streams).</li>
 *   <li>the end of the request's stream ({@link RequestObserver}): {@code idle} if the request
 *   ended well and the server keeps the connection for another one, as Go decides it, even if
 *   the client has already gone; {@code hijacked} if the request handed the connection to the
 *   application. HTTP/2: {@code idle} when the last active stream has handed the last of its
 *   response to Jetty (or ended without), which is when it ends for the client.</li>
 *   <li>{@link #onClosed(Connection)} with the socket closed: {@code closed}, preceded by
 *   {@code active} if an HTTP/1 connection had read bytes of a request that never reached a
 *   handler (partial, malformed or timed-out request heads). With the socket still open it is
 *   an upgrade, not a close.</li>
 *   <li>{@link #onClosed(SelectableChannel)}: the socket of a hijacked connection closed (a
 *   CONNECT tunnel's connection carries no listener); the tracker forgets it.</li>
 *   <li>{@link #handshakeSucceeded(Event)} and {@link #handshakeFailed(Event, Throwable)}: TLS
 *   details for the following events, or the reason of the coming close.</li>
 * </ul>
 *
 * <p>The close reason is gathered on the way: a failed TLS handshake; a connection that waited
 * (new or idle) for the whole idle timeout; the server stopping; a response after which the
 * connection does not persist (an error status makes it {@code error}); a failed response (an
 * I/O failure means the client went away); otherwise the client closed.</p>
 *
 * <p>Every method catches everything: a bug here is counted and logged, never thrown into Jetty.</p>
 */
final class JettyEvents implements Connection.Listener, SelectorManager.AcceptListener, HttpConfiguration.Customizer, SslHandshakeListener
{
    private final ConnStateTracker tracker;

    JettyEvents(ConnStateTracker tracker)
    {
        this.tracker = tracker;
    }

    @Override
    public void onOpened(Connection connection)
    {
        try
        {
            EndPoint endPoint = connection.getEndPoint();
            EndPoint root = RootEndPoint.of(endPoint);
            if (root == null || !root.isOpen())
                return;
            // Only the thread that accepted the socket opens its first connection: no race here.
            TrackedConnection conn = tracker.lookup(root);
            boolean accepted = conn == null;
            if (accepted)
                conn = tracker.newConnection(root);
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    return;
                if (connection instanceof SslConnection)
                    conn.secure(true);
                if (connection instanceof ConnectionMetaData metaData)
                {
                    // HTTP/2 knows its protocol when it opens; HTTP/1 only once it reads a request
                    // line (1.0, 1.1, or the preface of h2c): until then the protocol is unknown.
                    if (isMultiplexed(metaData.getHttpVersion()))
                        conn.protocol(protocolOf(metaData.getHttpVersion(), conn.secure()));
                    else
                        requestBoundary(conn, connection);
                }
                // The outermost end point knows the PROXY protocol's client address.
                if (endPoint != root)
                    conn.addresses(endPoint.getRemoteSocketAddress(), endPoint.getLocalSocketAddress());
                if (accepted)
                {
                    // Published under its lock: whoever finds it next waits until new is out.
                    tracker.register(conn);
                    tracker.announceNew(conn);
                }
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("onOpened", x);
        }
    }

    @Override
    public void onClosed(Connection connection)
    {
        try
        {
            EndPoint root = RootEndPoint.of(connection);
            if (root == null)
                return;
            TrackedConnection conn = tracker.lookup(root);
            if (conn == null)
                return;
            synchronized (conn)
            {
                // An upgrade closes the old connection while the socket stays open: not a close.
                // The HTTP/1 connection is gone for good then, its bytes no longer tell anything
                // (with h2c, HTTP/2 may serve the upgraded request and the socket may close
                // before HTTP/2 reports that it opened).
                if (root.isOpen())
                {
                    if (conn.http1 == connection)
                        conn.http1 = null;
                    return;
                }
                closed(conn, connection);
                tracker.forget(conn);
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("onClosed", x);
        }
    }

    /**
     * Ends {@code conn}: {@code active} first if an HTTP/1 request had begun unseen, then
     * {@code closed} with its reason. Caller holds {@code conn}'s lock; {@code connection} is the
     * one that closed (or the current one, when the tracker stops).
     */
    void closed(TrackedConnection conn, Connection connection)
    {
        ConnState state = conn.state();
        if (state.isTerminal())
            return;
        boolean waiting = state == ConnState.NEW || state == ConnState.IDLE;
        boolean timedOut = waiting && idledOut(conn, connection);
        if (waiting && readPartialRequest(conn))
        {
            // Jetty answered it (400, 431...): the server closed because the request was bad.
            if (conn.http1.getMessagesOut() > conn.messagesOutAtBoundary && conn.closing == null)
                conn.closing = CloseReason.ERROR;
            tracker.transition(conn, ConnState.ACTIVE);
        }
        conn.reason(closeReason(conn, timedOut));
        tracker.transition(conn, ConnState.CLOSED);
    }

    private CloseReason closeReason(TrackedConnection conn, boolean timedOut)
    {
        if (conn.closing == CloseReason.TLS_HANDSHAKE_FAILED)
            return conn.closing;
        if (timedOut)
            return CloseReason.IDLE_TIMEOUT;
        if (tracker.isShuttingDown())
            return CloseReason.LOCAL_CLOSE;
        return conn.closing != null ? conn.closing : CloseReason.REMOTE_CLOSE;
    }

    /**
     * Whether a waiting connection ({@code new} or {@code idle}) waited the whole idle timeout.
     * Jetty does not tell listeners why a connection closed, and after an idle timeout it
     * half-closes and resets the end point's idle clock, so the time spent in the state is the
     * witness: a client cannot stay silent that long, the server closes first. The tolerance
     * covers the moment between the last I/O and the transition.
     */
    private static boolean idledOut(TrackedConnection conn, Connection connection)
    {
        long timeout = connection == null ? 0 : connection.getEndPoint().getIdleTimeout();
        if (timeout <= 0)
            timeout = conn.root().getIdleTimeout();
        if (timeout <= 0)
            return false;
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - conn.sinceNanos());
        return waitedMillis >= timeout - Math.min(50, timeout / 10);
    }

    /**
     * Jetty answers a malformed request (400), or drops a partial or timed-out request head,
     * without calling customizers or handlers: bytes the HTTP/1 connection read since it opened
     * or its last request ended tell that a request was begun (Go reports {@code active} then
     * too). HTTP/2 is left out: its preface and control frames are not requests.
     */
    private static boolean readPartialRequest(TrackedConnection conn)
    {
        Connection http1 = conn.http1;
        return http1 != null && (conn.bufferedAtBoundary || http1.getBytesIn() > conn.bytesInAtBoundary);
    }

    /**
     * Notes where the HTTP/1 connection stands when no request is under way (it opened, or a
     * request ended). Bytes already read but not parsed are the start of the next request: a
     * pipelined one read together with the last, or bytes a detector or the PROXY protocol read
     * and handed over (those never count in this connection's bytes in). Only Jetty's own
     * HTTP/1 connection tells; it holds no unparsed bytes while a request is being handled
     * unless the application reads, and the application is done when the request ends.
     */
    private static void requestBoundary(TrackedConnection conn, Connection http1)
    {
        conn.http1 = http1;
        conn.bytesInAtBoundary = http1.getBytesIn();
        conn.messagesOutAtBoundary = http1.getMessagesOut();
        conn.bufferedAtBoundary = http1 instanceof HttpConnection http && !http.isRequestBufferEmpty();
    }

    @Override
    public void onClosed(SelectableChannel channel)
    {
        try
        {
            tracker.socketClosed(channel);
        }
        catch (Throwable x)
        {
            tracker.internalError("onClosed(channel)", x);
        }
    }

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders)
    {
        try
        {
            ConnectionMetaData metaData = request.getConnectionMetaData();
            EndPoint root = RootEndPoint.of(metaData.getConnection());
            TrackedConnection conn = root == null ? null : tracker.lookup(root);
            if (conn == null)
                return request;
            HttpVersion version = metaData.getHttpVersion();
            boolean multiplexed = isMultiplexed(version);
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    return request;
                conn.requestBegun();
                conn.protocol(protocolOf(version, conn.secure()));
                if (!multiplexed || conn.activeStreams++ == 0)
                    tracker.transition(conn, ConnState.ACTIVE);
            }
            tracker.requestBegun();
            request.addHttpStreamWrapper(stream -> new RequestObserver(stream, this, conn, request, multiplexed));
        }
        catch (Throwable x)
        {
            tracker.internalError("customize", x);
        }
        return request;
    }

    /**
     * An HTTP/2 stream no longer counts as active: the last of its response was handed to Jetty,
     * or the stream ended without it (reset, failure). The connection is idle when none is left.
     */
    void streamEnded(TrackedConnection conn, RequestObserver stream, Throwable failure)
    {
        try
        {
            synchronized (conn)
            {
                if (stream.ended || conn.state().isTerminal())
                    return;
                stream.ended = true;
                // A stream that failed (reset) leaves the session open; one failed by the session's end does not.
                if (conn.activeStreams > 0 && --conn.activeStreams == 0 && (failure == null || conn.root().isOpen()))
                    tracker.transition(conn, ConnState.IDLE);
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("streamEnded", x);
        }
    }

    void requestEnded(TrackedConnection conn, RequestObserver stream, Request request, int status, Throwable failure, boolean multiplexed)
    {
        try
        {
            EndPoint root = conn.root();
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    return;
                // As Go does, a request that ended well leaves the connection idle if the server
                // keeps it, even if the client has already closed its end: the response was
                // written, the close is reported when Jetty reads it. Asking whether the socket is
                // still open would race with a client that closes as soon as it has the response.
                if (multiplexed)
                {
                    streamEnded(conn, stream, failure);
                    return;
                }
                // WebSocket, ConnectHandler and raw upgrades hand the socket over through this attribute.
                if (request.getAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE) instanceof Connection)
                {
                    hijacked(conn);
                    return;
                }
                ConnectionMetaData metaData = request.getConnectionMetaData();
                // A failed stream aborts the HTTP/1 connection; a non-persistent one closes after the response.
                if (failure == null && metaData.isPersistent())
                {
                    requestBoundary(conn, metaData.getConnection());
                    tracker.transition(conn, ConnState.IDLE);
                }
                else if (failure != null)
                {
                    conn.closing = closeReasonOf(failure);
                }
                else
                {
                    conn.closing = status == HttpStatus.BAD_REQUEST_400 || HttpStatus.isServerError(status) ? CloseReason.ERROR : CloseReason.LOCAL_CLOSE;
                }
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("requestEnded", x);
        }
    }

    void hijacked(TrackedConnection conn)
    {
        try
        {
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    return;
                if (tracker.transition(conn, ConnState.HIJACKED))
                    tracker.afterHijack(conn);
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("hijacked", x);
        }
    }

    /** A request that timed out, or whose client went away, is not the server's error. */
    private static CloseReason closeReasonOf(Throwable failure)
    {
        for (Throwable x = failure; x != null; x = x.getCause())
        {
            if (x instanceof TimeoutException)
                return CloseReason.IDLE_TIMEOUT;
            if (x instanceof IOException)
                return CloseReason.REMOTE_CLOSE;
        }
        return CloseReason.ERROR;
    }

    @Override
    public void handshakeSucceeded(Event event)
    {
        try
        {
            TrackedConnection conn = handshaking(event);
            if (conn == null)
                return;
            SSLSession session = event.getSSLEngine().getSession();
            TlsInfo tls = new TlsInfo(session.getProtocol(), session.getCipherSuite(), sniHost(session));
            synchronized (conn)
            {
                conn.tls(tls);
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("handshakeSucceeded", x);
        }
    }

    @Override
    public void handshakeFailed(Event event, Throwable failure)
    {
        try
        {
            TrackedConnection conn = handshaking(event);
            if (conn == null)
                return;
            synchronized (conn)
            {
                conn.closing = CloseReason.TLS_HANDSHAKE_FAILED;
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("handshakeFailed", x);
        }
    }

    private TrackedConnection handshaking(Event event)
    {
        EndPoint endPoint = event.getEndPoint();
        return endPoint == null ? null : tracker.lookup(RootEndPoint.of(endPoint));
    }

    private static String sniHost(SSLSession session)
    {
        if (!(session instanceof ExtendedSSLSession extended))
            return null;
        List<SNIServerName> names = extended.getRequestedServerNames();
        for (SNIServerName name : names)
        {
            if (name instanceof SNIHostName host)
                return host.getAsciiName();
        }
        return null;
    }

    static boolean isMultiplexed(HttpVersion version)
    {
        return version == HttpVersion.HTTP_2 || version == HttpVersion.HTTP_3;
    }

    static String protocolOf(HttpVersion version, boolean secure)
    {
        if (version == null)
            return TrackedConnection.UNKNOWN;
        return switch (version)
        {
            case HTTP_1_0 -> "http/1.0";
            case HTTP_1_1 -> "http/1.1";
            case HTTP_2 -> secure ? "h2" : "h2c";
            case HTTP_3 -> "h3";
            default -> TrackedConnection.UNKNOWN;
        };
    }
}
