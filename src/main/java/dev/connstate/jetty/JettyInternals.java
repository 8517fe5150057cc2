package dev.connstate.jetty;

import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;

import org.eclipse.jetty.http.ComplianceViolation;
import org.eclipse.jetty.http.HttpParser;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.DatagramChannelEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.HttpChannel;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.internal.HttpChannelState;
import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.Attributes;

/**
 * The one door to what Jetty does not promise: every read of a Jetty internal class, and every
 * public hook used for something Jetty did not design it for, is a method here.
 *
 * <p>Each method says the Jetty behaviour it relies on; {@code JettyInternalsTest} holds a canary
 * for each, which fails with that sentence when a Jetty release changes it. Nothing else in this
 * package imports {@code org.eclipse.jetty.server.internal}, casts to {@link AbstractEndPoint} or
 * {@link AbstractConnection} for their state, or reads a generator or a write flusher.</p>
 */
final class JettyInternals
{
    private JettyInternals()
    {
    }

    /**
     * Relies on: Jetty's QUIC connector (HTTP/3) opens one connection on its UDP socket's
     * {@link DatagramChannelEndPoint}, and one per QUIC stream on an end point of a class in
     * {@code org.eclipse.jetty.quic}; the QUIC connections themselves are sessions, not
     * {@link Connection}s, and no connection listener hears them.
     *
     * @param root a connection's root end point
     * @return whether it is QUIC's: a UDP socket, or a stream inside a QUIC connection; never a
     * client's connection of its own
     */
    static boolean isQuic(EndPoint root)
    {
        if (root.getClass() == SocketChannelEndPoint.class)
            return false;
        return root instanceof DatagramChannelEndPoint || root.getClass().getName().startsWith("org.eclipse.jetty.quic.");
    }

    /**
     * Relies on: Jetty's own HTTP/1 server connection is {@code org.eclipse.jetty.server.internal.HttpConnection}
     * (plain, under TLS, behind the PROXY protocol and after a detector alike).
     *
     * @return whether {@code connection} is Jetty's HTTP/1 server connection, the only one whose
     * other reads here mean anything
     */
    static boolean isHttp1(Connection connection)
    {
        return connection instanceof HttpConnection;
    }

    /**
     * Relies on: when a fill returns the end of input (the client's FIN) while a request head is
     * partial, {@code HttpParser} marks itself at EOF, moves to {@code CLOSED} and only then tells
     * {@code HttpConnection}, which may answer 400 ("Early EOF") on its own. A malformed head
     * moves the parser to {@code CLOSE} instead, and the connection parses nothing more, so it
     * never reaches {@code CLOSED} (a later failed fill may still mark it at EOF).
     *
     * @return whether the HTTP/1 connection's last request head was cut short by the client's
     * end of input, rather than refused as malformed
     */
    static boolean headCutByEndOfInput(Connection http1)
    {
        return http1 instanceof HttpConnection connection && connection.getParser().isAtEOF() && connection.getParser().isState(HttpParser.State.CLOSED);
    }

    /**
     * Relies on: {@code HttpConnection.isRequestBufferEmpty()} is {@code false} exactly while the
     * connection holds bytes it read but has not parsed yet: a pipelined request read together
     * with the previous one, or bytes a detector or the PROXY protocol read and handed over; and
     * a fill puts the bytes it read there before it adds them to {@code getBytesIn()}, which it
     * does before they are parsed.
     *
     * @return whether the HTTP/1 connection holds unparsed bytes: the start of a next request
     */
    static boolean holdsUnparsedBytes(Connection http1)
    {
        return http1 instanceof HttpConnection http && !http.isRequestBufferEmpty();
    }

    /**
     * Relies on: a plain socket's end point ({@code SocketChannelEndPoint}) has its
     * {@link SocketChannel} as its transport. The JDK's socket adaptor answers
     * {@code available()} (the kernel's count of bytes received and not read yet) without reading
     * and in non-blocking mode too.
     *
     * @param root the socket's end point
     * @return whether bytes arrived on the socket that Jetty has not read yet (a selector late
     * under load): the client has sent something, a request most likely
     */
    static boolean bytesUnread(EndPoint root)
    {
        if (!(root.getTransport() instanceof SocketChannel channel))
            return false;
        try
        {
            return channel.socket().getInputStream().available() > 0;
        }
        catch (IOException x)
        {
            // Closed, or its input shut: nothing more will be read from it.
            return false;
        }
    }

    /**
     * Relies on: when a response that Jetty's HTTP/1 connection keeps persistent by its headers
     * ends after its connector shut down (it was committed before, so it could not say
     * {@code Connection: close}), the connection shuts its end point's output as the last write
     * succeeds, before the response completes and the request ends.
     *
     * @return whether the HTTP/1 connection shut its output after its response: it closes
     */
    static boolean outputShutAfterResponse(Connection http1)
    {
        return http1.getEndPoint().isOutputShutdown();
    }

    /**
     * Relies on: {@code HttpConnection.getGenerator().isEnd()} is {@code true} once the whole
     * response was generated, and still {@code false} when the request ends with a response
     * shorter than its {@code Content-Length} that Jetty is about to abort.
     *
     * @return whether the HTTP/1 connection generated its response to the end
     */
    static boolean responseGenerated(Connection http1)
    {
        return !(http1 instanceof HttpConnection http) || http.getGenerator().isEnd();
    }

    /**
     * Relies on: the request's {@link HttpChannel} is an {@code HttpChannelState} whose response
     * still carries the status when the request-end hook ({@link #requestEndHook}) is called.
     *
     * @return the response's status, 0 if it cannot be read
     */
    static int responseStatus(Request request)
    {
        Response response = HttpChannel.from(request) instanceof HttpChannelState channel ? channel.getResponse() : null;
        return response == null ? 0 : response.getStatus();
    }

    /**
     * Relies on: a write that failed (the client reset the connection while the response went
     * out) leaves the end point's {@code WriteFlusher} failed, where the request-end hook can see
     * it; under TLS or the PROXY protocol it may be the socket's end point that failed.
     *
     * @return whether a write on {@code endPoint} failed
     */
    static boolean writeFailed(EndPoint endPoint)
    {
        return endPoint instanceof AbstractEndPoint abstractEndPoint && abstractEndPoint.getWriteFlusher().isFailed();
    }

    /**
     * Relies on: when an application demanded request content and completed without reading it
     * all, the HTTP/1 connection is still fill-interested at the end of the request, and Jetty
     * then aborts the connection instead of parsing a next request.
     *
     * @return whether a read is pending on {@code connection}
     */
    static boolean readPending(Connection connection)
    {
        return connection instanceof AbstractConnection abstractConnection && abstractConnection.isFillInterested();
    }

    /** See {@link #requestEndTellsOutcome()}: read once, from the running Jetty's version. */
    private static final boolean REQUEST_END_TELLS_OUTCOME = JettyVersion.RUNNING.isAtLeast(12, 1, 6);

    /**
     * Relies on: from Jetty 12.1.6 on, a request whose response was generated whole on a
     * persistent connection, without a failed write or a pending read, completes its stream
     * successfully, so the request-end hook can tell the outcome. Before 12.1.6 it could not:
     * after a handler failed (threw, or failed its callback) Jetty wrote the error response whole
     * on a connection that was still persistent, then failed the stream and closed the
     * connection (jetty/jetty.project#14370 made that stream succeed and the connection stay).
     *
     * @return whether the request-end hook tells how an HTTP/1 request's stream completes; where
     * it does not, every HTTP/1 request needs a {@link RequestObserver}
     */
    static boolean requestEndTellsOutcome()
    {
        return REQUEST_END_TELLS_OUTCOME;
    }

    /**
     * Relies on: {@link HttpStream#UPGRADE_CONNECTION_ATTRIBUTE} holds the {@link Connection}
     * that takes the socket over (WebSocket, {@code ConnectHandler}, a raw 101) by the time the
     * request ends.
     *
     * @return whether the request handed its connection to another protocol's connection
     */
    static boolean takenOver(Request request)
    {
        return request.getAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE) instanceof Connection;
    }

    /**
     * Relies on: Jetty calls {@link ComplianceViolation.Listener#onRequestEnd(Attributes)} of
     * every listener of the {@code HttpConfiguration} once per HTTP/1 request, with the
     * {@link Request}, on the thread that completes it, after the response was written (or
     * failed) and before the request's stream completes, so the connection's persistence and
     * bytes can still be read and no next request has begun. Nothing else in Jetty's public API
     * reports the end of an HTTP/1 request without a wrapper object per request.
     *
     * @param onEnd called with each request that ends; never told about compliance violations
     * @return the listener to add to each {@code HttpConfiguration}
     */
    static ComplianceViolation.Listener requestEndHook(Consumer<Request> onEnd)
    {
        return new ComplianceViolation.Listener()
        {
            @Override
            public void onRequestEnd(Attributes request)
            {
                if (request instanceof Request r)
                    onEnd.accept(r);
            }
        };
    }

    /**
     * Takes the socket from an HTTP/1 connection that waits for its next request, so that it never
     * handles another: {@code standIn} becomes the end point's connection.
     *
     * <p>Relies on: {@code HttpConnection.onFillable}, once it has parsed what it read, stops
     * without handling it, and without asking to read again, when its end point's connection is no
     * longer itself (the check it makes for upgrades). Its pending read interest still fires: it
     * reads what arrives, and counts it in {@link Connection#getBytesIn()}.</p>
     */
    static void takeSocket(Connection http1, Connection standIn)
    {
        http1.getEndPoint().setConnection(standIn);
    }

    /**
     * Restarts the idle clock of a socket's end point, as its own I/O does: its idle timeout is
     * then measured from now, not from its last read or write.
     *
     * <p>Relies on: the socket's end point is an {@link org.eclipse.jetty.io.IdleTimeout} (Jetty's
     * {@code AbstractEndPoint}), whose {@code notIdle()} moves the time its idle check measures from.</p>
     *
     * @return whether it could
     */
    static boolean restartIdleClock(EndPoint root)
    {
        if (!(root instanceof org.eclipse.jetty.io.IdleTimeout idleTimeout))
            return false;
        idleTimeout.notIdle();
        return true;
    }

    /**
     * HTTP/2 sessions, in a class of its own: loaded only when a connection may be HTTP/2, so that
     * a server without Jetty's HTTP/2 jars never needs them.
     */
    static final class Http2
    {
        private static final boolean PRESENT = present();

        private Http2()
        {
        }

        private static boolean present()
        {
            try
            {
                Class.forName("org.eclipse.jetty.http2.HTTP2Connection", false, JettyInternals.class.getClassLoader());
                return true;
            }
            catch (ClassNotFoundException | LinkageError x)
            {
                return false;
            }
        }

        /**
         * Relies on: {@code HTTP2Session.shutdown()} sends a GOAWAY at once, lets the streams in
         * flight complete, then closes the connection; calling it again does nothing more.
         *
         * @return whether {@code connection} is an HTTP/2 connection, now shutting down
         */
        static boolean shutdown(Connection connection)
        {
            if (!PRESENT || !(connection instanceof org.eclipse.jetty.http2.HTTP2Connection http2))
                return false;
            http2.getSession().shutdown();
            return true;
        }
    }
}
