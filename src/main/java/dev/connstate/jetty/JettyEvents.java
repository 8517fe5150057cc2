package dev.connstate.jetty;

import java.nio.channels.SelectableChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
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
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.io.ssl.SslConnection;
import org.eclipse.jetty.io.ssl.SslHandshakeListener;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives Jetty's callbacks: finds the tracked connection of each, takes its lock where the
 * event needs it, hands the event to the class that decides what it means, and catches
 * everything, so that a bug here is counted and logged, never thrown into Jetty.
 *
 * <ul>
 *   <li>{@link #onOpened(Connection)}, on the thread that opened the connection (the selector's):
 *   the first connection on a root end point is the accept, {@code new}; later ones on the same
 *   socket (the HTTP connection inside TLS, the protocol after a detector or the PROXY header,
 *   HTTP/2 after h2c) update the protocol, the TLS flag and the addresses.</li>
 *   <li>{@link #customize(Request, HttpFields.Mutable)}, on the thread about to run the handler,
 *   once per request: to {@link Http1Requests} or {@link Http2Streams}. Requests whose end must
 *   be watched get a {@link RequestObserver}.</li>
 *   <li>the request-end hook ({@link JettyInternals#requestEndHook}), once per HTTP/1 request
 *   without observer, and the observer's calls: to the same two.</li>
 *   <li>{@link #onClosed(Connection)}: with the socket closed, the end ({@link #end}); with the
 *   socket still open, an upgrade, not a close.</li>
 *   <li>{@link #onClosed(SelectableChannel)}: the socket of a hijacked connection closed (a
 *   CONNECT tunnel's connection carries no listener): the registry forgets it.</li>
 *   <li>{@link #handshakeSucceeded(Event)} and {@link #handshakeFailed(Event, Throwable)}: TLS
 *   details for the following events, or the reason of the coming close.</li>
 * </ul>
 */
final class JettyEvents implements Connection.Listener, SelectorManager.AcceptListener, HttpConfiguration.Customizer, SslHandshakeListener
{
    private static final Logger LOG = LoggerFactory.getLogger(JettyEvents.class);

    private final ConnectionRegistry registry;
    private final StateReporter reporter;
    private final Http1Requests http1;
    private final Http2Streams http2;
    private final ConnectionDrain drain;
    private final IdleClose idleClose;
    private final ClientLimits clientLimits;
    private final BooleanSupplier shuttingDown;
    /**
     * Hears the end of HTTP/1 requests, added to each {@link HttpConfiguration}. A separate object:
     * this one is a bean of the connectors, where Jetty warns about compliance listeners.
     */
    private final ComplianceViolation.Listener requestEnds = JettyInternals.requestEndHook(this::onRequestEnd);
    private final LongAdder internalErrors = new LongAdder();
    private final LongAdder tlsHandshakeFailures = new LongAdder();
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10, TimeUnit.SECONDS);

    /**
     * @param shuttingDown whether the server (or the tracked connector) is stopping, so that it
     * closes connections itself; a closing connection's own connector is looked at too
     */
    JettyEvents(ConnectionRegistry registry, StateReporter reporter, ConnectionDrain drain, KeepAliveTimeout keepAlive, IdleClose idleClose,
                ClientLimits clientLimits, BooleanSupplier shuttingDown)
    {
        this.registry = registry;
        this.reporter = reporter;
        this.http1 = new Http1Requests(reporter, registry, drain, keepAlive);
        this.http2 = new Http2Streams(reporter, drain, keepAlive);
        this.drain = drain;
        this.idleClose = idleClose;
        this.clientLimits = clientLimits;
        this.shuttingDown = shuttingDown;
    }

    /**
     * @return the listener to add to each {@link HttpConfiguration} with
     * {@link HttpConfiguration#addComplianceViolationListener(ComplianceViolation.Listener)}
     */
    ComplianceViolation.Listener requestEnds()
    {
        return requestEnds;
    }

    long internalErrors()
    {
        return internalErrors.sum();
    }

    /** @return the TLS connections that ended before their handshake completed, since start */
    long tlsHandshakeFailures()
    {
        return tlsHandshakeFailures.sum();
    }

    @Override
    public void onOpened(Connection connection)
    {
        try
        {
            EndPoint endPoint = connection.getEndPoint();
            EndPoint root = RootEndPoint.of(endPoint);
            // A QUIC connector's UDP socket and its streams are no client's connection (HTTP/3 is not tracked).
            if (root == null || JettyInternals.isQuic(root))
                return;
            TrackedConnection conn = registry.lookup(root);
            // Read after the lookup, not before: Jetty marks a socket closed before it reports the
            // close, and the close is forgotten after that. So a socket missing from the registry
            // and open here is an accept, never an upgrade (h2c, a detector) whose socket closed
            // and ended on another thread between the old connection's close and this open.
            if (!root.isOpen())
                return;
            boolean accepted = conn == null;
            if (accepted)
                conn = ConnectionRegistry.create(root);
            synchronized (conn)
            {
                if (conn.state().isTerminal())
                    return;
                if (connection instanceof SslConnection)
                    conn.secure(true);
                if (connection instanceof ConnectionMetaData metaData)
                {
                    conn.protocolConnection(connection);
                    // HTTP/2 knows its protocol when it opens; HTTP/1 only once it reads a request line.
                    if (Protocols.isMultiplexed(metaData.getHttpVersion()))
                        conn.protocol(Protocols.of(metaData.getHttpVersion(), conn.secure()));
                    else
                        http1.opened(conn, connection);
                }
                // The outermost end point knows the PROXY protocol's client address.
                boolean layered = endPoint != root;
                if (layered)
                    conn.addresses(endPoint.getRemoteSocketAddress(), endPoint.getLocalSocketAddress());
                if (accepted)
                {
                    registry.register(conn);
                    reporter.announceNew(conn);
                }
                // Caps per client: at the accept, and again once the PROXY protocol named the client.
                if ((accepted || layered) && clientLimits.isOn() && !clientLimits.admit(conn, conn.remote()))
                {
                    CloseReasons.clientLimited(conn);
                    Http1Requests.refuseNext(conn);
                    conn.abort();
                }
                // A socket that closed on another thread before the registry held it: that
                // thread's close found nothing to end, and no other close will come.
                if (accepted && !root.isOpen())
                    end(conn, connection);
            }
        }
        catch (Throwable x)
        {
            internalError("onOpened", x);
        }
    }

    @Override
    public void onClosed(Connection connection)
    {
        try
        {
            EndPoint root = RootEndPoint.of(connection);
            TrackedConnection conn = root == null ? null : registry.lookup(root);
            if (conn == null)
                return;
            synchronized (conn)
            {
                // On an upgrade Jetty closes the old connection while the socket stays open.
                if (root.isOpen())
                    http1.replaced(conn, connection);
                else
                    end(conn, connection);
            }
        }
        catch (Throwable x)
        {
            internalError("onClosed", x);
        }
    }

    /**
     * Ends {@code conn}, in one pass: what the close depends on is read first, while the
     * connection still waits in its state, and its reason decided once ({@link CloseReasons#atClose});
     * then {@code active} if an HTTP/1 request had begun unseen, the drain told (it counts the close
     * before listeners hear it), {@code closed} reported, and the registry forgets it. Caller holds
     * {@code conn}'s lock.
     *
     * @param connection the connection that closed (or the socket's current one, when the
     * tracker stops), {@code null} if none
     */
    void end(TrackedConnection conn, Connection connection)
    {
        if (conn.state().isTerminal())
            return;
        // A connection refused by a cap read no request, even if its PROXY header came with one.
        Http1Requests.Unseen unseen = conn.closing() == CloseReason.CLIENT_LIMIT ? Http1Requests.Unseen.NONE : http1.unseenRequest(conn);
        CloseReason reason = CloseReasons.atClose(conn, connection, unseen == Http1Requests.Unseen.ANSWERED, drain.isPastDeadline(), closedByServer(conn));
        if (unseen != Http1Requests.Unseen.NONE)
            reporter.transition(conn, ConnState.ACTIVE);
        conn.reason(reason);
        if (conn.secure() && conn.tls() == null)
            tlsHandshakeFailures.increment();
        conn.race(idleClose.raced(conn));
        clientLimits.release(conn);
        // Counted before listeners hear closed: whoever sees closed sees the drain's counts too.
        drain.closing(conn);
        reporter.transition(conn, ConnState.CLOSED);
        // Forgotten only after closed went out, under the lock: the tracker's stop walks the
        // registry, and must find (and wait for) a connection that is ending on another thread,
        // or it would stop the queues before that thread has handed them closed.
        registry.forget(conn);
    }

    /**
     * Whether the server, the tracked connector or the connector of {@code conn} is stopping, so
     * that it closes connections itself: Spring Boot's immediate shutdown, or a connector stopped
     * through JMX, stops the connectors while the server runs. The connector may have stopped
     * already: Jetty reports the closes its stop caused on the executor, without waiting for them
     * ({@code ManagedSelector.destroyEndPoint}).
     */
    private boolean closedByServer(TrackedConnection conn)
    {
        return shuttingDown.getAsBoolean() || (conn.protocolConnection() instanceof ConnectionMetaData metaData && !metaData.getConnector().isRunning());
    }

    @Override
    public void onClosed(SelectableChannel channel)
    {
        try
        {
            TrackedConnection conn = registry.hijackedOn(channel);
            if (conn == null)
                return;
            synchronized (conn)
            {
                registry.forget(conn);
            }
        }
        catch (Throwable x)
        {
            internalError("onClosed(channel)", x);
        }
    }

    @Override
    public Request customize(Request request, HttpFields.Mutable responseHeaders)
    {
        try
        {
            ConnectionMetaData metaData = request.getConnectionMetaData();
            Connection connection = metaData.getConnection();
            EndPoint root = RootEndPoint.of(connection);
            TrackedConnection conn = root == null ? null : registry.lookup(root);
            if (conn == null)
                return request;
            HttpVersion version = metaData.getHttpVersion();
            boolean multiplexed = Protocols.isMultiplexed(version);
            // Most HTTP/1 requests end through the request-end hook, which costs nothing per
            // request; a stream observer (one more HttpStream per request) is only for HTTP/2
            // streams, whose end must follow their last frame, for requests that may take the
            // connection over when their response commits, and for every HTTP/1 request on a
            // Jetty whose request end does not tell how the stream completes.
            boolean observed = multiplexed || !JettyInternals.requestEndTellsOutcome() || !JettyInternals.isHttp1(connection) || mayTakeOver(request);
            if (multiplexed)
                http2.begun(conn, request, version);
            else
            {
                synchronized (conn)
                {
                    if (conn.state().isTerminal())
                        return request;
                    http1.begun(conn, request, connection, version, observed);
                }
            }
            if (observed)
                request.addHttpStreamWrapper(stream -> new RequestObserver(stream, this, conn, request, multiplexed));
        }
        catch (Throwable x)
        {
            internalError("customize", x);
        }
        return request;
    }

    /** Whether a 101 or a 2xx response may hand the connection to the application. */
    private static boolean mayTakeOver(Request request)
    {
        return HttpMethod.CONNECT.is(request.getMethod()) || request.getHeaders().contains(HttpHeader.UPGRADE);
    }

    /** The request-end hook: an HTTP/1 request without observer ends, just before its stream completes. */
    private void onRequestEnd(Request request)
    {
        try
        {
            Connection connection = request.getConnectionMetaData().getConnection();
            if (!JettyInternals.isHttp1(connection))
                return;
            EndPoint root = RootEndPoint.of(connection);
            TrackedConnection conn = root == null ? null : registry.lookup(root);
            if (conn == null)
                return;
            synchronized (conn)
            {
                http1.endedUnobserved(conn, request, connection, root);
            }
        }
        catch (Throwable x)
        {
            internalError("onRequestEnd", x);
        }
    }

    /** An observed HTTP/1 response commits with a status that hands the connection over. */
    void takenOver(TrackedConnection conn)
    {
        try
        {
            synchronized (conn)
            {
                http1.hijacked(conn);
            }
        }
        catch (Throwable x)
        {
            internalError("takenOver", x);
        }
    }

    /** An HTTP/2 stream's last frame is about to go out, or its stream ended. */
    void streamEnded(TrackedConnection conn, RequestObserver stream, Throwable failure)
    {
        try
        {
            http2.ended(conn, stream, failure);
        }
        catch (Throwable x)
        {
            internalError("streamEnded", x);
        }
    }

    /** An observed HTTP/1 request's stream completed: succeeded, or failed. */
    void requestEnded(TrackedConnection conn, Request request, int status, Throwable failure)
    {
        try
        {
            synchronized (conn)
            {
                http1.endedObserved(conn, request, status, failure);
            }
        }
        catch (Throwable x)
        {
            internalError("requestEnded", x);
        }
    }

    @Override
    public void handshakeSucceeded(Event event)
    {
        try
        {
            TrackedConnection conn = handshaking(event);
            if (conn == null)
                return;
            // From the accept, as Kestrel's: the wait for the client's hello is part of what a client waits.
            long nanos = System.nanoTime() - conn.openedNanos();
            SSLSession session = event.getSSLEngine().getSession();
            TlsInfo tls = new TlsInfo(session.getProtocol(), session.getCipherSuite(), sniHost(session), nanos);
            synchronized (conn)
            {
                conn.tls(tls);
            }
        }
        catch (Throwable x)
        {
            internalError("handshakeSucceeded", x);
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
                CloseReasons.tlsHandshakeFailed(conn);
            }
        }
        catch (Throwable x)
        {
            internalError("handshakeFailed", x);
        }
    }

    private TrackedConnection handshaking(Event event)
    {
        EndPoint endPoint = event.getEndPoint();
        return endPoint == null ? null : registry.lookup(RootEndPoint.of(endPoint));
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

    private void internalError(String where, Throwable x)
    {
        internalErrors.increment();
        errorLog.warn("Internal error in", where, x);
    }
}
