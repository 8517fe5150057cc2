package dev.connstate.jetty;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Connection;

/**
 * Decides why a connection closed: the one owner of the close reason and of every inference of it.
 *
 * <p>Jetty does not tell connection listeners why a connection closed, so the reason is gathered
 * on the way. The events that hint at it (a failed TLS handshake, a response after which the
 * connection does not persist, a failed request, the drain) note it here as they happen; when the
 * socket closes, {@link #atClose} decides, once, weighing those notes against what the close
 * itself shows: a failed handshake first; then a drain past its deadline; then the drain's or the keep-alive timeout's note;
 * then a connection that waited (new or idle) for the whole idle timeout; then the server
 * stopping; then the last note, or a bad request Jetty answered itself; otherwise the client
 * closed.</p>
 *
 * <p>The walk of a close, one pass from Jetty's callback to the listeners: Jetty's
 * {@code Connection.Listener.onClosed} reaches {@link JettyEvents#onClosed} (a socket still open is
 * an upgrade, not a close); {@link JettyEvents#end} reads what the close depends on while the
 * connection still waits in its state ({@link Http1Requests#unseenRequest}, the drain's deadline,
 * the server or connector stopping) and asks {@link #atClose} for the reason, once; then the
 * connection turns {@code active} if a request began unseen, the drain is told
 * ({@link ConnectionDrain#closing}), {@link StateReporter} reports {@code closed}, and the
 * {@link ConnectionRegistry} forgets it.</p>
 *
 * <p>Every method is called with the connection's lock held.</p>
 */
final class CloseReasons
{
    private CloseReasons()
    {
    }

    /** The TLS handshake failed: whatever happens next, that is why the connection closes. */
    static void tlsHandshakeFailed(TrackedConnection conn)
    {
        // Unless the tracker closed it during the handshake: that is why the handshake failed.
        if (!closedByTracker(conn.closing()))
            conn.closing(CloseReason.TLS_HANDSHAKE_FAILED);
    }

    /** The request header timeout closes the connection. */
    static void requestHeaderTimedOut(TrackedConnection conn)
    {
        conn.closing(CloseReason.REQUEST_HEADER_TIMEOUT);
    }

    /** A cap per client refuses the connection at its accept. */
    static void clientLimited(TrackedConnection conn)
    {
        conn.closing(CloseReason.CLIENT_LIMIT);
    }

    private static boolean closedByTracker(CloseReason noted)
    {
        return noted == CloseReason.REQUEST_HEADER_TIMEOUT || noted == CloseReason.CLIENT_LIMIT;
    }

    /**
     * A request's stream failed and Jetty aborts the connection: a request that timed out, or
     * whose client went away, is not the server's error.
     */
    static void requestFailed(TrackedConnection conn, Throwable failure)
    {
        conn.closing(reasonOf(failure));
    }

    /** Writing the response failed: the client reset the connection. */
    static void writeFailed(TrackedConnection conn)
    {
        conn.closing(CloseReason.REMOTE_CLOSE);
    }

    /**
     * The request ended with its response incomplete, and Jetty aborts the connection: because
     * the client shut its side ({@code inputShutdown}), or because the server failed.
     */
    static void responseIncomplete(TrackedConnection conn, boolean inputShutdown)
    {
        conn.closing(inputShutdown ? CloseReason.REMOTE_CLOSE : CloseReason.ERROR);
    }

    /** The application demanded content and completed anyway: Jetty aborts the connection. */
    static void readPending(TrackedConnection conn)
    {
        conn.closing(CloseReason.ERROR);
    }

    /**
     * The response was complete but the connection does not persist: the server closes it, as
     * an error if the status says so (400, 5xx), else as a plain local close
     * ({@code Connection: close}, HTTP/1.0).
     *
     * @param status the response's status, 0 if unknown
     */
    static void notPersistent(TrackedConnection conn, int status)
    {
        conn.closing(status == HttpStatus.BAD_REQUEST_400 || HttpStatus.isServerError(status) ? CloseReason.ERROR : CloseReason.LOCAL_CLOSE);
    }

    /** The tracker closes the connection itself (an idle connection closed on demand). */
    static void closedLocally(TrackedConnection conn)
    {
        conn.closing(CloseReason.LOCAL_CLOSE);
    }

    /** The drain closes the connection, or lets it close after its last response or stream. */
    static void drained(TrackedConnection conn)
    {
        if (conn.closing() != CloseReason.TLS_HANDSHAKE_FAILED)
            conn.closing(CloseReason.DRAIN);
    }

    /** The keep-alive timeout closes the idle connection. */
    static void keepAliveTimedOut(TrackedConnection conn)
    {
        if (conn.closing() != CloseReason.TLS_HANDSHAKE_FAILED)
            conn.closing(CloseReason.KEEP_ALIVE_TIMEOUT);
    }

    /** The tracker stops while the connection is open: a local close, unless something else is known. */
    static void trackerStopped(TrackedConnection conn)
    {
        if (conn.closing() == null)
            conn.closing(CloseReason.LOCAL_CLOSE);
    }

    /**
     * Decides why {@code conn} closed, once, as its socket closes: called before the connection
     * moves again (a move restarts the time in its state).
     *
     * @param connection the connection that closed, {@code null} if none (the socket's own timeout is read then)
     * @param badRequestAnswered whether Jetty answered a request that never reached a handler
     * (400, 431...): unless something else is known, the request was bad
     * @param drainDeadlinePassed whether a drain runs and its deadline has passed
     * @param closedByServer whether the server (or the connection's connector) is stopping
     * @return why the connection closed
     */
    static CloseReason atClose(TrackedConnection conn, Connection connection, boolean badRequestAnswered, boolean drainDeadlinePassed, boolean closedByServer)
    {
        CloseReason noted = conn.closing();
        if (noted == null && badRequestAnswered)
            noted = CloseReason.ERROR;
        if (noted == CloseReason.TLS_HANDSHAKE_FAILED)
            return noted;
        if (drainDeadlinePassed)
            return CloseReason.DRAIN_TIMEOUT;
        if (noted == CloseReason.DRAIN || noted == CloseReason.KEEP_ALIVE_TIMEOUT || closedByTracker(noted))
            return noted;
        if (waitedOut(conn, connection))
            return CloseReason.IDLE_TIMEOUT;
        if (closedByServer)
            return CloseReason.LOCAL_CLOSE;
        return noted != null ? noted : CloseReason.REMOTE_CLOSE;
    }

    /**
     * Whether a waiting connection ({@code new} or {@code idle}) waited the whole idle timeout.
     * Jetty does not say so, and after an idle timeout it half-closes and resets the end point's
     * idle clock, so the time spent in the state is the witness: a client cannot stay silent that
     * long, the server closes first. The tolerance covers the moment between the last I/O and the
     * transition.
     */
    private static boolean waitedOut(TrackedConnection conn, Connection connection)
    {
        ConnState state = conn.state();
        if (state != ConnState.NEW && state != ConnState.IDLE)
            return false;
        long timeout = connection == null ? 0 : connection.getEndPoint().getIdleTimeout();
        if (timeout <= 0)
            timeout = conn.root().getIdleTimeout();
        if (timeout <= 0)
            return false;
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - conn.sinceNanos());
        return waitedMillis >= timeout - Math.min(50, timeout / 10);
    }

    private static CloseReason reasonOf(Throwable failure)
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
}
