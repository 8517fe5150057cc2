package dev.connstate.jetty;

import dev.connstate.ConnState;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Request;

/**
 * Counts the active streams of multiplexed connections (HTTP/2, HTTP/3): {@code active} on the
 * move from none to one, {@code idle} when the last one ends. Opening the session itself is not
 * a request.
 *
 * <p>Concurrent streams are counted with atomics, without the connection's lock; only a stream
 * that finds none active, or leaves none, takes it to move the state. Under the lock the state is
 * made to agree with the count, whatever happened in between: a stream that began and ended
 * before its beginning took the lock still shows as {@code active}, then {@code idle}.</p>
 *
 * <p>A stream stops counting when the last of its response is handed to Jetty (or it ends
 * without one), which is when it ends for the client: the client may already have sent its next
 * request, or closed. Called on the Jetty threads of the streams, concurrently. During a drain
 * the connection stays {@code active} after its last stream: the GOAWAY it had closes it next.</p>
 */
final class Http2Streams
{
    private final StateReporter reporter;
    private final ConnectionDrain drain;
    private final KeepAliveTimeout keepAlive;

    Http2Streams(StateReporter reporter, ConnectionDrain drain, KeepAliveTimeout keepAlive)
    {
        this.reporter = reporter;
        this.drain = drain;
        this.keepAlive = keepAlive;
    }

    /** A stream's request head was read and the handler is about to run. */
    void begun(TrackedConnection conn, Request request, HttpVersion version)
    {
        // Set before the transition: an h2c upgrade's first request comes before HTTP/2 says it opened.
        conn.protocol(Protocols.of(version, conn.secure()));
        if (conn.streamBegun() != 0)
            return;
        synchronized (conn)
        {
            ConnState state = conn.state();
            if (state.isTerminal())
                return;
            if (state != ConnState.ACTIVE)
                reporter.transition(conn, ConnState.ACTIVE, conn.notBeforeSince(request.getBeginNanoTime()));
            if (conn.activeStreams() == 0)
            {
                reporter.transition(conn, ConnState.IDLE);
                keepAlive.wentIdle(conn);
            }
        }
    }

    /**
     * A stream no longer counts as active: its last frame went out, or it completed or failed.
     * Only the first of these calls for one stream counts.
     *
     * @param failure why the stream failed, {@code null} if it did not
     */
    void ended(TrackedConnection conn, RequestObserver stream, Throwable failure)
    {
        if (!stream.end() || conn.streamEnded() != 0)
            return;
        synchronized (conn)
        {
            // A stream that failed (reset) leaves the session open; one failed by the session's end does not.
            // During a drain the session had a GOAWAY: it closes after its last stream, never idle.
            if (conn.state() == ConnState.ACTIVE && conn.activeStreams() == 0 && (failure == null || conn.root().isOpen()) && !drain.isDraining())
            {
                reporter.transition(conn, ConnState.IDLE);
                keepAlive.wentIdle(conn);
            }
        }
    }
}
