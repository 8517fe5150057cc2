package dev.connstate.jetty;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.AbstractLifeCycle;
import org.eclipse.jetty.util.component.Graceful;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drains the tracked connections by their state, as Go's {@code Server.Shutdown} does, so that
 * a graceful stop fails no request.
 *
 * <p>Jetty's graceful stop drives it: it is a {@link Graceful} bean, so a server stopped with
 * {@code stopTimeout > 0} ({@code jetty.server.stopTimeout}) calls {@link #shutdown()} first, then
 * waits up to the stop timeout for it and for the connectors. {@link #drain(long)} starts it by
 * hand, before a stop. When it begins:</p>
 * <ul>
 *   <li>the connectors stop accepting and close their listening sockets;</li>
 *   <li>{@code idle} connections close at once (unless a request's bytes just arrived), through
 *   {@link IdleClose}, which counts a request that races the close;</li>
 *   <li>{@code new} connections that have not sent a byte of a request close once they are
 *   {@linkplain #getNewGraceMillis() the grace period} old (Go: 5 s);</li>
 *   <li>HTTP/1 requests in flight, or arriving on an open connection, are served: the connector's
 *   shutdown makes Jetty answer with {@code Connection: close} and close after the response, and
 *   the connection goes {@code active}, then {@code closed}, never {@code idle};</li>
 *   <li>HTTP/2 connections get a GOAWAY at once; their streams in flight complete, then they close;</li>
 *   <li>hijacked connections belong to the application and are left to it;</li>
 *   <li>at the deadline (the stop timeout) the server closes what is left.</li>
 * </ul>
 * <p>Each connection it closes reports {@code closed} with the reason {@code drain}, or
 * {@code drain_timeout} at the deadline. When no tracked connection is left (hijacked ones
 * aside) the drain is done: one log line says how many connections closed idle, finished their
 * request, closed new or were forced at the deadline, and how long it took.</p>
 *
 * <p>It scans the connections on a daemon thread of its own (every {@value #SCAN_MILLIS} ms,
 * and whenever one ends), never on a Jetty thread, and holds nothing of a connection.</p>
 */
@ManagedObject("Drains connections by their state, as Go's Server.Shutdown does")
public class ConnectionDrain extends AbstractLifeCycle implements Graceful
{
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionDrain.class);
    /** Go's grace for connections that have not sent a request: 5 s. */
    public static final long DEFAULT_NEW_GRACE_MILLIS = 5000;
    static final long SCAN_MILLIS = 50;

    private final ConnectionRegistry registry;
    private final IdleClose idleClose;
    private final LongSupplier stopTimeoutMillis;
    private final List<Connector> connectors = new ArrayList<>();
    /** The connectors' own shutdown idle timeouts, put back when this stops. */
    private final Map<AbstractConnector, Long> shutdownIdleTimeouts = new IdentityHashMap<>();
    private final LongAdder closedIdle = new LongAdder();
    private final LongAdder closedNew = new LongAdder();
    private final LongAdder finished = new LongAdder();
    private final LongAdder forced = new LongAdder();
    private volatile boolean enabled = true;
    private volatile long newGraceMillis = DEFAULT_NEW_GRACE_MILLIS;
    /** Set when a drain begins: everything below is written before it is published. */
    private volatile Drain drain;

    /** One drain, from its beginning to its end. */
    private final class Drain
    {
        private final long beganNanos = System.nanoTime();
        private final long deadlineNanos;
        /** Whether this drain closes what is left at its deadline; in a graceful stop Jetty's connectors do. */
        private final boolean closeAtDeadline;
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private final Thread scanner;
        private volatile long endedNanos;
        private boolean logged;

        private Drain(long timeoutMillis, boolean closeAtDeadline)
        {
            this.deadlineNanos = timeoutMillis > 0 ? beganNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMillis) : Long.MAX_VALUE;
            this.closeAtDeadline = closeAtDeadline;
            this.scanner = new Thread(this::scanUntilDone, "connstate-drain");
            scanner.setDaemon(true);
        }

        private boolean pastDeadline()
        {
            return deadlineNanos != Long.MAX_VALUE && System.nanoTime() - deadlineNanos >= 0;
        }

        private void scanUntilDone()
        {
            while (!done.isDone())
            {
                scan(this);
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(SCAN_MILLIS));
            }
        }
    }

    ConnectionDrain(ConnectionRegistry registry, IdleClose idleClose, LongSupplier stopTimeoutMillis)
    {
        this.registry = registry;
        this.idleClose = idleClose;
        this.stopTimeoutMillis = stopTimeoutMillis;
    }

    @ManagedAttribute("Whether a graceful stop drains the connections (jetty.connstate.drain)")
    public boolean isEnabled()
    {
        return enabled;
    }

    /**
     * @param enabled whether a graceful stop drains the connections; {@code false} leaves the stop
     * to Jetty alone (an explicit {@link #drain(long)} still works)
     */
    public void setEnabled(boolean enabled)
    {
        this.enabled = enabled;
    }

    @ManagedAttribute("Milliseconds a new connection may wait for its first request once a drain began")
    public long getNewGraceMillis()
    {
        return newGraceMillis;
    }

    /**
     * @param newGraceMillis how old a {@code new} connection without a byte of a request may
     * grow during a drain before it is closed (counted from its accept, as Go does)
     */
    public void setNewGraceMillis(long newGraceMillis)
    {
        if (newGraceMillis < 0)
            throw new IllegalArgumentException("The grace for new connections must not be negative: " + newGraceMillis);
        this.newGraceMillis = newGraceMillis;
    }

    /**
     * Takes over a connector's shutdown: Jetty's own shortens every connection's idle timeout
     * (its shutdown idle timeout), which would close {@code new} connections before their grace
     * and could fail a slow request in flight. Call it before the connector shuts down.
     */
    synchronized void attach(Connector connector)
    {
        if (connectors.contains(connector))
            return;
        connectors.add(connector);
        if (enabled && connector instanceof AbstractConnector abstractConnector)
        {
            shutdownIdleTimeouts.put(abstractConnector, abstractConnector.getShutdownIdleTimeout());
            abstractConnector.setShutdownIdleTimeout(-1);
        }
    }

    /**
     * Takes Jetty's {@link GracefulHandler}s (the {@code graceful} module) out of the server's
     * handler chain, when the drain is on: during a graceful stop they answer 503 to every
     * request, even on the connections the drain lets finish, where the drain answers with
     * {@code Connection: close}; and the drain waits for the requests in flight itself. Call it
     * before the handlers start (when the server starts, after all Jetty XML ran): the tracker
     * does when it was made before the server started; whoever makes it while the server starts
     * calls it then. Calling it again finds none.
     *
     * @param top the server, or the handler whose chain to look through
     * @return how many were taken out
     */
    public int replaceGracefulHandlers(Handler.Singleton top)
    {
        if (!enabled)
            return 0;
        int replaced = 0;
        Handler.Singleton parent = top;
        while (parent.getHandler() instanceof Handler.Singleton child)
        {
            if (child instanceof GracefulHandler graceful)
            {
                Handler inner = graceful.getHandler();
                graceful.setHandler((Handler)null);
                parent.setHandler(inner);
                replaced++;
                LOG.info("Took {} out of the handler chain: during a graceful stop, the connstate drain serves requests with Connection: close instead of 503, and waits for those in flight (to keep Jetty's, turn the drain off: jetty.connstate.drain=false, or connstate.drain.enabled=false in Spring Boot and Dropwizard)", graceful);
            }
            else
                parent = child;
        }
        return replaced;
    }

    /**
     * Called by Jetty's graceful stop, with the server's stop timeout as the deadline.
     *
     * @return completed when no tracked connection is left (hijacked ones aside)
     */
    @Override
    public CompletableFuture<Void> shutdown()
    {
        if (!enabled)
            return CompletableFuture.completedFuture(null);
        return begin(stopTimeoutMillis.getAsLong(), false);
    }

    /**
     * Drains now, before a stop: the connectors stop accepting, and at the deadline what is left
     * (hijacked connections aside) is closed. A drain cannot be undone: stop the server next.
     *
     * @param timeoutMillis the deadline, from now; 0 for none
     * @return completed when no tracked connection is left (hijacked ones aside)
     */
    public CompletableFuture<Void> drain(long timeoutMillis)
    {
        return begin(timeoutMillis, true);
    }

    @ManagedOperation(value = "Drains the connections now, as Go's Shutdown does: stop accepting, close idle ones, close the others after their request", impact = "ACTION")
    public void startDrain(@Name("timeoutMillis") long timeoutMillis)
    {
        drain(timeoutMillis);
    }

    private CompletableFuture<Void> begin(long timeoutMillis, boolean closeAtDeadline)
    {
        Drain started;
        synchronized (this)
        {
            if (drain != null)
                return drain.done;
            if (!isRunning())
                return CompletableFuture.completedFuture(null);
            closedIdle.reset();
            closedNew.reset();
            finished.reset();
            forced.reset();
            started = new Drain(timeoutMillis, closeAtDeadline);
            // The connectors first: from then on Jetty ends every HTTP/1 response with
            // Connection: close (or shuts the output after one already committed). Only then may a
            // request end without going idle: the other way round, one ending in between would
            // stay active on a connection Jetty keeps, and its next request could not begin.
            for (Connector connector : connectors)
            {
                connector.shutdown();
                // Go closes its listeners: new clients are refused rather than left in the backlog.
                if (connector instanceof NetworkConnector network)
                    network.close();
            }
            drain = started;
        }
        LOG.info("Draining {} connections", registry.size());
        scan(started);
        if (!started.done.isDone())
            started.scanner.start();
        return started.done;
    }

    /** Closes what may close now, and ends the drain when nothing is left. */
    private void scan(Drain current)
    {
        long now = System.nanoTime();
        long graceNanos = TimeUnit.MILLISECONDS.toNanos(newGraceMillis);
        boolean closeAll = current.closeAtDeadline && current.pastDeadline();
        int open = 0;
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                ConnState state = conn.state();
                if (state.isTerminal())
                    continue;
                open++;
                if (closeAll)
                    conn.close();
                else if (Http1Requests.closingIdle(conn))
                    idleClose.close(conn, IdleClose.Cause.DRAIN);
                else if (conn.root().isOutputShutdown())
                    linger(conn);
                else if (JettyInternals.Http2.shutdown(conn.protocolConnection()))
                    CloseReasons.drained(conn);
                else if (state == ConnState.IDLE && conn.activeStreams() == 0)
                    idleClose.close(conn, IdleClose.Cause.DRAIN);
                else if (state == ConnState.NEW && now - conn.openedNanos() >= graceNanos && !Http1Requests.requestBytesWaiting(conn))
                    close(conn);
            }
        }
        if (open == 0)
            finish(current);
    }

    /**
     * Jetty shut the output after the last response ({@code Connection: close}) and waits for the
     * client to close, as it should: closing at once could reset the connection under the
     * response's last bytes. A client that never closes is closed after a short linger.
     */
    private static void linger(TrackedConnection conn)
    {
        IdleClose.linger(conn.root());
    }

    /** A {@code new} connection past its grace, that sent no byte of a request. */
    private static void close(TrackedConnection conn)
    {
        CloseReasons.drained(conn);
        conn.close();
    }

    /**
     * A connection is about to report {@code closed} while a drain runs: counted by the state it
     * leaves and its reason, and the drain may be done. Caller holds its lock.
     */
    void closing(TrackedConnection conn)
    {
        Drain current = drain;
        if (current == null || current.done.isDone())
            return;
        if (conn.reason() == CloseReason.DRAIN_TIMEOUT)
            forced.increment();
        else if (conn.state() == ConnState.IDLE)
            closedIdle.increment();
        else if (conn.state() == ConnState.NEW)
            closedNew.increment();
        else
            finished.increment();
        // The scanner sees whether anything is left, without waiting for its next round (and
        // without walking every connection on this Jetty thread).
        LockSupport.unpark(current.scanner);
    }

    private void finish(Drain current)
    {
        synchronized (this)
        {
            if (current.done.isDone())
                return;
            current.endedNanos = System.nanoTime();
            logSummary(current);
        }
        current.done.complete(null);
    }

    /** Caller holds this lock. */
    private void logSummary(Drain current)
    {
        if (current.logged)
            return;
        current.logged = true;
        long end = current.endedNanos != 0 ? current.endedNanos : System.nanoTime();
        LOG.info("Drained in {} ms: {} connections closed idle, {} finished their request, {} closed new, {} forced at the deadline",
            TimeUnit.NANOSECONDS.toMillis(end - current.beganNanos), closedIdle.sum(), finished.sum(), closedNew.sum(), forced.sum());
    }

    /** @return whether a drain has begun (and not been reset by a restart) */
    @ManagedAttribute("Whether a drain has begun")
    public boolean isDraining()
    {
        return drain != null;
    }

    /** @return whether the last drain is done: no tracked connection was left (hijacked ones aside) */
    @ManagedAttribute("Whether the last drain is done: no connection left but hijacked ones")
    public boolean isDone()
    {
        Drain current = drain;
        return current != null && current.endedNanos != 0;
    }

    /** @return whether a drain runs and its deadline has passed: what closes now is forced */
    boolean isPastDeadline()
    {
        Drain current = drain;
        return current != null && current.pastDeadline();
    }

    @ManagedAttribute("Connections the drain closed idle")
    public long getClosedIdle()
    {
        return closedIdle.sum();
    }

    @ManagedAttribute("Connections that finished their request during the drain, then closed")
    public long getFinished()
    {
        return finished.sum();
    }

    @ManagedAttribute("Connections the drain closed new, without a request, after the grace")
    public long getClosedNew()
    {
        return closedNew.sum();
    }

    @ManagedAttribute("Connections still open at the drain's deadline, closed then")
    public long getForced()
    {
        return forced.sum();
    }

    @ManagedAttribute("Milliseconds the last drain took, so far if it runs; 0 if none ran")
    public long getDurationMillis()
    {
        Drain current = drain;
        if (current == null)
            return 0;
        long end = current.endedNanos != 0 ? current.endedNanos : System.nanoTime();
        return TimeUnit.NANOSECONDS.toMillis(end - current.beganNanos);
    }

    @Override
    public boolean isShutdown()
    {
        return drain != null;
    }

    @Override
    protected void doStop() throws Exception
    {
        Drain current;
        synchronized (this)
        {
            current = drain;
            // The deadline passed and the server closed the rest: say what the drain did.
            if (current != null)
                logSummary(current);
            shutdownIdleTimeouts.forEach(AbstractConnector::setShutdownIdleTimeout);
            shutdownIdleTimeouts.clear();
            connectors.clear();
            drain = null;
        }
        if (current != null)
        {
            current.done.complete(null);
            LockSupport.unpark(current.scanner);
        }
        super.doStop();
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,draining=%b,closedIdle=%d,finished=%d,closedNew=%d,forced=%d}", getClass().getSimpleName(), hashCode(), getState(),
            isDraining(), getClosedIdle(), getFinished(), getClosedNew(), getForced());
    }
}
