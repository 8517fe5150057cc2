package dev.connstate.jetty;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionMetaData;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes an idle connection so that a request racing the close is seen, refused and counted: a
 * keep-alive race, the cause of a load balancer's 502s.
 *
 * <p>It first looks for a request's bytes ({@link Http1Requests#requestBytesWaiting}); if some
 * came, the request is served and the connection stays. Otherwise:</p>
 * <ul>
 *   <li>HTTP/2: a GOAWAY, then Jetty closes it (a client knows from the GOAWAY which streams were
 *   not served, and retries them: no race to count);</li>
 *   <li>HTTP/1: the socket is taken from Jetty's HTTP connection, so that no byte read from now
 *   on becomes a request, and its output is shut (FIN, after TLS's close_notify). The client's
 *   FIN then closes it; a client that sends nothing is closed after {@value #LINGER_MILLIS} ms.
 *   Bytes that arrive in between are a request the client sent after the server began to close:
 *   a race. It never reaches a handler, and the connection closes at the next look.</li>
 * </ul>
 *
 * <p>Races are counted ({@link #races()}), reported on the connection's {@code closed}
 * ({@code race}), and logged: one WARN line at most every {@value #WARN_INTERVAL_MINUTES} minutes,
 * with how many happened since the last one and what to do.</p>
 *
 * <p>Called with the connection's lock held, on the thread of the keep-alive scan or the drain,
 * never on a Jetty thread; {@link #raced} on the Jetty thread that reports the close.</p>
 */
final class IdleClose
{
    private static final Logger LOG = LoggerFactory.getLogger(IdleClose.class);
    /**
     * How long a connection whose output was shut waits for its client's FIN: Jetty's own
     * shutdown idle timeout.
     */
    static final long LINGER_MILLIS = 1000;
    static final long WARN_INTERVAL_MINUTES = 5;

    /** Why the tracker closes an idle connection. */
    enum Cause
    {
        KEEP_ALIVE_TIMEOUT, DRAIN
    }

    private final LongAdder races = new LongAdder();
    private final AtomicLong unlogged = new AtomicLong();
    private final AtomicLong nextWarnNanos = new AtomicLong(System.nanoTime());
    /** The keep-alive timeout in force (ms), 0 if the connector's idle timeout decides: for the WARN line. */
    private final LongSupplier keepAliveTimeoutMillis;

    IdleClose(LongSupplier keepAliveTimeoutMillis)
    {
        this.keepAliveTimeoutMillis = keepAliveTimeoutMillis;
    }

    /**
     * Closes {@code conn}, idle, unless a request has arrived (or Jetty's connection is not yet
     * waiting for the next one: the next look tries again). Called again for a connection it is
     * closing, it closes it at once if a request raced the close. Caller holds its lock.
     */
    void close(TrackedConnection conn, Cause cause)
    {
        if (Http1Requests.closingIdle(conn))
        {
            if (Http1Requests.raced(conn))
                conn.close();
            return;
        }
        if (Http1Requests.requestBytesWaiting(conn))
            return;
        Connection http1 = Http1Requests.connection(conn);
        // Jetty's HTTP/1 connection must be waiting to read its next request: between a response
        // and that wait it would not read a racing request, which could then not be seen. The next
        // look closes it.
        if (http1 != null && !http1.getEndPoint().isFillInterested())
            return;
        if (cause == Cause.DRAIN)
            CloseReasons.drained(conn);
        else
            CloseReasons.keepAliveTimedOut(conn);
        if (JettyInternals.Http2.shutdown(conn.protocolConnection()))
            return;
        if (http1 == null)
        {
            conn.close();
            return;
        }
        Http1Requests.handOver(conn);
        EndPoint endPoint = http1.getEndPoint();
        JettyInternals.takeSocket(http1, new RefusingConnection(http1));
        endPoint.shutdownOutput();
        // The linger counts from the FIN: Jetty measures an idle timeout from the last I/O, which
        // for a connection idle longer than the linger would close it at once, before any race.
        EndPoint root = conn.root();
        JettyInternals.restartIdleClock(root);
        linger(root);
    }

    /** Shortens the socket's idle timeout to the linger, unless it is shorter already. */
    static void linger(EndPoint root)
    {
        long timeout = root.getIdleTimeout();
        if (timeout <= 0 || timeout > LINGER_MILLIS)
            root.setIdleTimeout(LINGER_MILLIS);
    }

    /**
     * {@code conn} closes: whether a request raced its close, counted and logged if so. Caller
     * holds its lock, on the Jetty thread that reports the close.
     */
    boolean raced(TrackedConnection conn)
    {
        if (!Http1Requests.closingIdle(conn) || !Http1Requests.raced(conn))
            return false;
        races.increment();
        unlogged.incrementAndGet();
        long now = System.nanoTime();
        long next = nextWarnNanos.get();
        if (now - next >= 0 && nextWarnNanos.compareAndSet(next, now + TimeUnit.MINUTES.toNanos(WARN_INTERVAL_MINUTES)))
        {
            long count = unlogged.getAndSet(0);
            long keepAlive = keepAliveTimeoutMillis.getAsLong();
            // Not the socket's idle timeout now: the linger has shortened it.
            long inForce = keepAlive > 0 ? keepAlive : conn.protocolConnection() instanceof ConnectionMetaData metaData ? metaData.getConnector().getIdleTimeout() : 0;
            LOG.warn("{} keep-alive race(s) since the last report: a client sent a request on a connection the server was closing idle, and got no response. " +
                "A load balancer's idle timeout must be shorter than the server's keep-alive timeout: set jetty.connstate.keepAliveTimeout (now {} ms) above it; " +
                "races during a drain mean the load balancer kept sending to a stopping server: take it out of the pool before the stop", count, inForce);
        }
        return true;
    }

    long races()
    {
        return races.sum();
    }
}
