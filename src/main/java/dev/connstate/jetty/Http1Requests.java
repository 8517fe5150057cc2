package dev.connstate.jetty;

import dev.connstate.ConnState;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.eclipse.jetty.server.Request;

/**
 * Decides where HTTP/1 requests begin and end on a connection: {@code active} when a request
 * reaches the handler, {@code idle} when it ended well and the connection persists,
 * {@code hijacked} when it handed the connection to the application, and {@code active} before
 * {@code closed} when a request began that never reached a handler.
 *
 * <p>Go decides {@code idle} the same way: once the response was written and the server keeps
 * the connection, even if the client has already closed its end (the close is reported when
 * Jetty reads it; asking whether the socket is still open would race with a client that closes as
 * soon as it has the response). When the connection does not persist it stays {@code active}
 * until it closes, and {@link CloseReasons} is told why.</p>
 *
 * <p>Every method is called with the connection's lock held, on the Jetty thread of the event.</p>
 */
final class Http1Requests
{
    /**
     * Where one HTTP/1 connection stood at its last request boundary (it opened, or a request
     * ended): what it had read and answered then tells, at a close, whether a request had begun
     * that Jetty dropped or answered without a handler (partial, malformed or timed-out heads).
     */
    static final class Boundary
    {
        private final Connection connection;
        /** Bytes the connection had read at the boundary. */
        private long bytesIn;
        /** Responses it had sent then; more at the close means Jetty answered a bad request. */
        private long messagesOut;
        /** Whether it held bytes it had not parsed yet: the start of a next request. */
        private boolean buffered;
        /** Whether a request is under way whose end the request-end hook reports (it has no stream observer). */
        private boolean endPending;
        /** Whether the tracker is closing the connection idle ({@link IdleClose}): what it reads now is a race, never a request. */
        private boolean closingIdle;

        private Boundary(Connection connection)
        {
            this.connection = connection;
            mark();
        }

        /**
         * Bytes read but not parsed are the start of the next request: a pipelined one read
         * together with the last, or bytes a detector or the PROXY protocol read and handed over
         * (those never count in this connection's bytes in). Jetty's HTTP/1 connection holds none
         * while a request is handled unless the application reads, and the application is done
         * when the request ends.
         */
        private void mark()
        {
            bytesIn = connection.getBytesIn();
            messagesOut = connection.getMessagesOut();
            buffered = JettyInternals.holdsUnparsedBytes(connection);
        }

        /** HTTP/2's preface and control frames are not requests: only an HTTP/1 connection has a boundary. */
        private boolean requestBegunSince()
        {
            return buffered || connection.getBytesIn() > bytesIn;
        }

        private boolean answeredSince()
        {
            return connection.getMessagesOut() > messagesOut;
        }
    }

    private final StateReporter reporter;
    private final ConnectionRegistry registry;
    private final ConnectionDrain drain;
    private final KeepAliveTimeout keepAlive;

    Http1Requests(StateReporter reporter, ConnectionRegistry registry, ConnectionDrain drain, KeepAliveTimeout keepAlive)
    {
        this.reporter = reporter;
        this.registry = registry;
        this.drain = drain;
        this.keepAlive = keepAlive;
    }

    /**
     * Caller holds {@code conn}'s lock.
     *
     * @return whether the HTTP/1 connection read bytes of a request since it opened or its last
     * request ended, or bytes wait on its socket that Jetty has not read yet (its selector may lag
     * by milliseconds under load): a request is on its way, though no handler saw it yet
     */
    static boolean requestBytesWaiting(TrackedConnection conn)
    {
        // Where the bytes go, in that order: the socket, Jetty's request buffer (a fill puts them
        // there before Jetty counts them), Jetty's count (raised before the buffer is parsed).
        // Looked at in the same order, bytes on their way are seen in one place or the next; the
        // other way round, a move between two looks would be missed by both.
        if (JettyInternals.bytesUnread(conn.root()))
            return true;
        Boundary boundary = conn.http1();
        return boundary != null && (JettyInternals.holdsUnparsedBytes(boundary.connection) || boundary.requestBegunSince());
    }

    /**
     * The tracker closes {@code conn} idle ({@link IdleClose}): its HTTP/1 connection is no longer
     * the socket's, and the bytes it reads from now on are a race. Caller holds {@code conn}'s lock.
     */
    static void handOver(TrackedConnection conn)
    {
        Boundary boundary = conn.http1();
        if (boundary == null)
            return;
        boundary.mark();
        boundary.closingIdle = true;
    }

    /** @return the HTTP/1 connection on {@code conn}'s socket, {@code null} if none; caller holds its lock */
    static Connection connection(TrackedConnection conn)
    {
        Boundary boundary = conn.http1();
        return boundary == null ? null : boundary.connection;
    }

    /**
     * @return whether the HTTP/1 connection read bytes of a request since its last boundary (no
     * look at the socket, unlike {@link #requestBytesWaiting}); caller holds {@code conn}'s lock
     */
    static boolean requestBegun(TrackedConnection conn)
    {
        Boundary boundary = conn.http1();
        return boundary != null && !boundary.closingIdle && boundary.requestBegunSince();
    }

    /** @return whether the tracker is closing {@code conn} idle ({@link #handOver}); caller holds its lock */
    static boolean closingIdle(TrackedConnection conn)
    {
        Boundary boundary = conn.http1();
        return boundary != null && boundary.closingIdle;
    }

    /**
     * The tracker closes {@code conn} now: its HTTP/1 connection loses the socket first, so that a
     * head that completes in between is never handled. Caller holds {@code conn}'s lock.
     */
    static void refuseNext(TrackedConnection conn)
    {
        Boundary boundary = conn.http1();
        if (boundary != null && !boundary.closingIdle)
            JettyInternals.takeSocket(boundary.connection, new RefusingConnection(boundary.connection));
    }

    /** @return whether bytes came since {@link #handOver}: a request that raced the close; caller holds {@code conn}'s lock */
    static boolean raced(TrackedConnection conn)
    {
        Boundary boundary = conn.http1();
        return boundary != null && boundary.closingIdle && boundary.connection.getBytesIn() > boundary.bytesIn;
    }

    /**
     * An HTTP/1 connection opened on the socket: at the accept, or over TLS, a detector or the
     * PROXY protocol once they hand over. Its protocol is unknown until it reads a request line
     * (1.0, 1.1, or the preface of h2c).
     */
    void opened(TrackedConnection conn, Connection http1)
    {
        conn.http1(new Boundary(http1));
    }

    /**
     * A connection of the socket closed while the socket stays open: an upgrade (h2c, WebSocket).
     * If it was the HTTP/1 connection, it is gone for good and its bytes no longer tell anything
     * (with h2c, HTTP/2 may serve the upgraded request and the socket may close before HTTP/2
     * reports that it opened).
     */
    void replaced(TrackedConnection conn, Connection closed)
    {
        Boundary boundary = conn.http1();
        if (boundary != null && boundary.connection == closed)
            conn.http1(null);
    }

    /**
     * A request head was read and the handler is about to run: {@code active}, stamped with the
     * time its first byte was read (Jetty's parser notes it), as in Go.
     *
     * @param connection the connection that read it
     * @param observed whether a stream observer reports its end; otherwise the request-end hook does
     */
    void begun(TrackedConnection conn, Request request, Connection connection, HttpVersion version, boolean observed)
    {
        conn.requestBegun();
        conn.protocol(Protocols.of(version, conn.secure()));
        Boundary boundary = conn.http1();
        if (boundary == null || boundary.connection != connection)
        {
            // Its opening was not seen as HTTP/1's: the end must still be heard.
            opened(conn, connection);
            boundary = conn.http1();
        }
        boundary.endPending = !observed;
        reporter.transition(conn, ConnState.ACTIVE, conn.notBeforeSince(request.getBeginNanoTime()));
    }

    /**
     * A request without a stream observer ended, as the request-end hook reports it. Whether its
     * stream then succeeds (the connection may serve the next request) or fails (Jetty aborts
     * the connection) is not passed, so it is read from what decides it: a response generated to
     * its end, without a failed write, on a persistent connection.
     *
     * @param http the HTTP/1 connection that served it
     * @param root the socket's end point
     */
    void endedUnobserved(TrackedConnection conn, Request request, Connection http, EndPoint root)
    {
        Boundary boundary = conn.http1();
        if (boundary == null || !boundary.endPending || conn.state().isTerminal())
            return;
        boundary.endPending = false;
        if (JettyInternals.takenOver(request))
        {
            hijacked(conn);
            return;
        }
        // The HTTP connection's own end point, or the socket's under TLS and PROXY layers.
        EndPoint endPoint = http.getEndPoint();
        if (JettyInternals.writeFailed(endPoint) || (endPoint != root && JettyInternals.writeFailed(root)))
            CloseReasons.writeFailed(conn);
        else if (!JettyInternals.responseGenerated(http))
            CloseReasons.responseIncomplete(conn, endPoint.isInputShutdown());
        else
            ended(conn, http, http instanceof ConnectionMetaData metaData && metaData.isPersistent() ? 0 : JettyInternals.responseStatus(request));
    }

    /**
     * A request with a stream observer ended: its stream succeeded, or failed (then Jetty aborts
     * the connection).
     *
     * @param status the committed response's status, 0 if none
     * @param failure why the stream failed, {@code null} if it succeeded
     */
    void endedObserved(TrackedConnection conn, Request request, int status, Throwable failure)
    {
        if (conn.state().isTerminal())
            return;
        // WebSocket, ConnectHandler and raw upgrades hand the socket over through this attribute.
        if (JettyInternals.takenOver(request))
            hijacked(conn);
        else if (failure != null)
            CloseReasons.requestFailed(conn, failure);
        else
            ended(conn, request.getConnectionMetaData().getConnection(), status);
    }

    /**
     * The request ended with its response written: {@code idle} if the connection persists and
     * no read is pending. A read still pending (the application demanded content and completed
     * anyway) makes Jetty abort the connection rather than parse a next request. During a drain
     * Jetty answers with {@code Connection: close}, or shuts the output after a response committed
     * before the connector shut down, and the close follows: the connection does not go idle.
     * Unless Jetty keeps it: a response that ended after the drain began but before the connector
     * had shut down (it closes its listening socket first, which can take milliseconds) leaves
     * the connection persistent, and so idle, for the drain to close as such.
     */
    private void ended(TrackedConnection conn, Connection connection, int status)
    {
        boolean persistent = connection instanceof ConnectionMetaData metaData && metaData.isPersistent();
        if (JettyInternals.readPending(connection))
            CloseReasons.readPending(conn);
        else if (drain.isDraining() && (!persistent || JettyInternals.outputShutAfterResponse(connection)))
            CloseReasons.drained(conn);
        else if (persistent)
        {
            Boundary boundary = conn.http1();
            if (boundary != null && boundary.connection == connection)
                boundary.mark();
            else
                opened(conn, connection);
            reporter.transition(conn, ConnState.IDLE);
            keepAlive.wentIdle(conn);
        }
        else
            CloseReasons.notPersistent(conn, status);
    }

    /**
     * The request handed the connection to the application: {@code hijacked}, as its 101 (or a
     * 2xx to {@code CONNECT}) commits, or at its end.
     */
    void hijacked(TrackedConnection conn)
    {
        if (conn.state().isTerminal())
            return;
        if (reporter.transition(conn, ConnState.HIJACKED))
            registry.afterHijack(conn);
    }

    /** What a closing connection's socket shows of a request that no handler saw. */
    enum Unseen
    {
        /** No request began since the last boundary. */
        NONE,
        /** A request began (bytes were read) and was dropped: partial, or its head timed out. */
        BEGUN,
        /** A request began and Jetty answered it itself (400, 431...): the request was bad. */
        ANSWERED
    }

    /**
     * The socket is closing with the connection waiting ({@code new} or {@code idle}): Jetty
     * answered a malformed request (400), or dropped a partial or timed-out request head, without
     * calling customizers or handlers; bytes read since the last boundary tell that a request was
     * begun, and Go reports {@code active} then too. Only reads.
     *
     * @return {@link Unseen#NONE} unless the connection must turn {@code active} before it closes
     */
    Unseen unseenRequest(TrackedConnection conn)
    {
        ConnState state = conn.state();
        Boundary boundary = conn.http1();
        // A request that raced an idle close was never one the server took: the close reports the race.
        if ((state != ConnState.NEW && state != ConnState.IDLE) || boundary == null || boundary.closingIdle || !boundary.requestBegunSince())
            return Unseen.NONE;
        // Jetty may answer a head that the client's close cut short (400, "Early EOF"): the
        // client closed first, the request was not bad.
        return boundary.answeredSince() && !JettyInternals.headCutByEndOfInput(boundary.connection) ? Unseen.ANSWERED : Unseen.BEGUN;
    }
}
