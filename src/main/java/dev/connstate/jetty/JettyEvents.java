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
import org.eclipse.jetty.http.ComplianceViolation;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.internal.HttpChannelState;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Attributes;

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
 *   <li>the end of the request ({@link #onRequestEnd(Attributes)} for HTTP/1, a
 *   {@link RequestObserver} of the request's stream for HTTP/2 and for HTTP/1 requests that may
 *   take the connection over): {@code idle} if the request ended well and the server keeps the
 *   connection for another one, as Go decides it, even if the client has already gone;
 *   {@code hijacked} if the request handed the connection to the application (the observer
 *   sees a 101, or a 2xx to {@code CONNECT}, as it commits). HTTP/2: {@code idle} when the last
 *   active stream has handed the last of its response to Jetty (or ended without), which is
 *   when it ends for the client.</li>
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
    /**
     * Whether the end of an HTTP/1 request ({@link #onRequestEnd(Attributes)}) tells how the
     * request's stream completes, from the response and the connection's persistence. Before
     * Jetty 12.1.6 it did not: after a handler failed (threw, or failed its callback) Jetty wrote
     * the error response whole on a connection that was still persistent, then failed the stream
     * and closed the connection (jetty/jetty.project#14370 made that stream succeed and the
     * connection stay). There, every HTTP/1 request gets a {@link RequestObserver}, which sees
     * the stream succeed or fail.
     */
    private static final boolean REQUEST_END_TELLS_OUTCOME = JettyVersion.RUNNING.isAtLeast(12, 1, 6);

    private final ConnStateTracker tracker;
    /**
     * Hears the end of requests, registered on each {@link HttpConfiguration}. A separate object:
     * this one is a bean of the connectors, where Jetty warns about compliance listeners (they
     * used to be set there).
     */
    private final ComplianceViolation.Listener requestEnds = new ComplianceViolation.Listener()
    {
        @Override
        public void onRequestEnd(Attributes request)
        {
            JettyEvents.this.onRequestEnd(request);
        }
    };

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
            // Most HTTP/1 requests end through onRequestEnd, which costs nothing per request; a
            // stream observer (one more HttpStream per request) is only for HTTP/2 streams, whose
            // end must follow their last frame, for requests that may take the connection over
            // when their response commits, and for every HTTP/1 request on a Jetty whose request
            // end does not tell how the stream completes.
            boolean observed = multiplexed || !REQUEST_END_TELLS_OUTCOME || !(metaData.getConnection() instanceof HttpConnection) || mayTakeOver(request);
            if (multiplexed)
                streamBegun(conn, request, version);
            else
            {
                synchronized (conn)
                {
                    if (conn.state().isTerminal())
                        return request;
                    conn.requestBegun();
                    conn.protocol(protocolOf(version, conn.secure()));
                    conn.http1RequestPending = !observed;
                    tracker.transition(conn, ConnState.ACTIVE, activeSince(conn, request));
                }
            }
            if (observed)
                request.addHttpStreamWrapper(stream -> new RequestObserver(stream, this, conn, request, multiplexed));
        }
        catch (Throwable x)
        {
            tracker.internalError("customize", x);
        }
        return request;
    }

    /**
     * When the connection turned active: as in Go, when the first byte of the request was read
     * (Jetty's parser notes it), which also spares a clock read per request. Not before the
     * current state began: HTTP/2 may read a stream's head before the previous stream's end is
     * reported.
     */
    private static long activeSince(TrackedConnection conn, Request request)
    {
        long begin = request.getBeginNanoTime();
        long since = conn.sinceNanos();
        return begin - since > 0 ? begin : since;
    }

    /** Whether a 101 or a 2xx response may hand the connection to the application. */
    private static boolean mayTakeOver(Request request)
    {
        return HttpMethod.CONNECT.is(request.getMethod()) || request.getHeaders().contains(HttpHeader.UPGRADE);
    }

    /**
     * @return the listener to add to each {@link HttpConfiguration} with
     * {@link HttpConfiguration#addComplianceViolationListener(ComplianceViolation.Listener)}: it
     * reports the end of requests to {@link #onRequestEnd(Attributes)} and ignores violations
     */
    ComplianceViolation.Listener requestEnds()
    {
        return requestEnds;
    }

    /**
     * The end of an HTTP/1 request that has no stream observer. Jetty calls it just before it
     * completes the request's stream, on the thread that completes it, once per request, after
     * the response was written or failed and after the request log; the stream then succeeds
     * (the connection may serve the next request) or fails (the connection is aborted). Which
     * of the two is not passed here, so it is read from what decides it: a response the
     * generator wrote to its end, without a failed write, on a persistent connection.
     */
    void onRequestEnd(Attributes attributes)
    {
        try
        {
            if (!(attributes instanceof Request request) || !(request.getConnectionMetaData().getConnection() instanceof HttpConnection http))
                return;
            EndPoint root = RootEndPoint.of(http);
            TrackedConnection conn = root == null ? null : tracker.lookup(root);
            if (conn == null)
                return;
            synchronized (conn)
            {
                if (!conn.http1RequestPending || conn.state().isTerminal())
                    return;
                conn.http1RequestPending = false;
                if (request.getAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE) instanceof Connection)
                {
                    hijacked(conn);
                    return;
                }
                // The HTTP connection's own end point, or the socket's under TLS and PROXY layers.
                EndPoint endPoint = http.getEndPoint();
                if (writeFailed(endPoint) || (endPoint != root && writeFailed(root)))
                    http1Ended(conn, http, 0, CloseReason.REMOTE_CLOSE);
                else if (!http.getGenerator().isEnd())
                    // The response is incomplete: Jetty aborts the connection.
                    http1Ended(conn, http, 0, http.getEndPoint().isInputShutdown() ? CloseReason.REMOTE_CLOSE : CloseReason.ERROR);
                else
                    http1Ended(conn, http, http.isPersistent() ? 0 : statusOf(request), null);
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("onRequestEnd", x);
        }
    }

    private static boolean writeFailed(EndPoint endPoint)
    {
        return endPoint instanceof AbstractEndPoint abstractEndPoint && abstractEndPoint.getWriteFlusher().isFailed();
    }

    private static int statusOf(Request request)
    {
        Response response = HttpChannel.from(request) instanceof HttpChannelState channel ? channel.getResponse() : null;
        return response == null ? 0 : response.getStatus();
    }

    /**
     * An HTTP/2 stream began a request. Concurrent streams are counted without the connection's
     * lock; only a stream that finds none active takes it, to make the connection active. Under
     * the lock the state is made to agree with the count, whatever happened in between: a stream
     * that began and ended before its beginning took the lock still shows as active, then idle.
     */
    private void streamBegun(TrackedConnection conn, Request request, HttpVersion version)
    {
        // Set before the transition: an h2c upgrade's first request comes before HTTP/2 says it opened.
        conn.protocol(protocolOf(version, conn.secure()));
        if (conn.streamBegun() != 0)
            return;
        synchronized (conn)
        {
            ConnState state = conn.state();
            if (state.isTerminal())
                return;
            if (state != ConnState.ACTIVE)
                tracker.transition(conn, ConnState.ACTIVE, activeSince(conn, request));
            if (conn.activeStreams() == 0)
                tracker.transition(conn, ConnState.IDLE);
        }
    }

    /**
     * An HTTP/2 stream no longer counts as active: the last of its response was handed to Jetty,
     * or the stream ended without it (reset, failure). The connection is idle when none is left;
     * the stream that takes the count to 0 takes the lock and moves it, if no stream began since.
     */
    void streamEnded(TrackedConnection conn, RequestObserver stream, Throwable failure)
    {
        try
        {
            if (!stream.end() || conn.streamEnded() != 0)
                return;
            synchronized (conn)
            {
                // A stream that failed (reset) leaves the session open; one failed by the session's end does not.
                if (conn.state() == ConnState.ACTIVE && conn.activeStreams() == 0 && (failure == null || conn.root().isOpen()))
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
        if (multiplexed)
        {
            streamEnded(conn, stream, failure);
            return;
        }
        try
        {
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    return;
                // WebSocket, ConnectHandler and raw upgrades hand the socket over through this attribute.
                if (request.getAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE) instanceof Connection)
                {
                    hijacked(conn);
                    return;
                }
                http1Ended(conn, request.getConnectionMetaData().getConnection(), status, failure == null ? null : closeReasonOf(failure));
            }
        }
        catch (Throwable x)
        {
            tracker.internalError("requestEnded", x);
        }
    }

    /**
     * An HTTP/1 request ended: {@code idle} if it ended well and the connection persists, as Go
     * decides it, even if the client has already closed its end (the response was written, the
     * close is reported when Jetty reads it; asking whether the socket is still open would race
     * with a client that closes as soon as it has the response). Otherwise the connection closes
     * next and stays active until then, with what is known of the reason. Caller holds
     * {@code conn}'s lock.
     *
     * @param connection the HTTP/1 connection
     * @param status the response's status, 0 if unknown
     * @param failure why the request's stream failed (Jetty aborts the connection), {@code null} if it did not
     */
    private void http1Ended(TrackedConnection conn, Connection connection, int status, CloseReason failure)
    {
        if (failure != null)
            conn.closing = failure;
        else if (connection instanceof AbstractConnection http && http.isFillInterested())
            // A read still pending (the application demanded content and completed anyway):
            // Jetty aborts the connection rather than parse a next request.
            conn.closing = CloseReason.ERROR;
        else if (connection instanceof ConnectionMetaData metaData && metaData.isPersistent())
        {
            requestBoundary(conn, connection);
            tracker.transition(conn, ConnState.IDLE);
        }
        else
            conn.closing = status == HttpStatus.BAD_REQUEST_400 || HttpStatus.isServerError(status) ? CloseReason.ERROR : CloseReason.LOCAL_CLOSE;
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
