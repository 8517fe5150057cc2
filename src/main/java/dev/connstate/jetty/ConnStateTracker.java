package dev.connstate.jetty;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.DumpableCollection;
import org.eclipse.jetty.util.component.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Go's {@code http.Server.ConnState} for Jetty: reports every state change of every
 * connection of a server (or of one connector) to listeners.
 *
 * <p>Attach it in one line,</p>
 * <pre>{@code
 * ConnStateTracker.attach(server, (conn, state) -> System.out.println("Client: " + conn.remote() + " - new state: " + state));
 * }</pre>
 * <p>or add it as a bean of the {@link Server} (what the {@code connstate} module's XML does).
 * When it starts, it attaches itself to every connector of the server: as a connection listener
 * (connections opening and closing), an accept listener (sockets closing), and a request
 * customizer and a compliance violation listener of each connector's {@link HttpConfiguration}
 * (requests beginning and ending; the latter reports nothing about compliance).
 * Connections accepted before it started are not tracked.</p>
 *
 * <p>Listeners are queued by default ({@link #addListener(ConnStateListener)}): each gets a
 * bounded queue and a daemon thread of its own. {@link #addInlineListener(ConnStateListener)}
 * runs cheap in-memory listeners on the Jetty thread instead.</p>
 *
 * <p>This class is the public face: listeners, lifecycle, what JMX and the connection table
 * read. Behind it, {@link JettyEvents} receives Jetty's callbacks, {@link ConnectionRegistry}
 * holds the connections, {@link StateReporter} moves them and tells the listeners, and
 * {@link ConnectorWiring} hooks the connectors.</p>
 */
@ManagedObject("Reports connection states as Go's http.Server.ConnState does")
public class ConnStateTracker extends ContainerLifeCycle
{
    private static final Logger LOG = LoggerFactory.getLogger(ConnStateTracker.class);

    /** Default capacity of a queued listener's queue. */
    public static final int DEFAULT_QUEUE_CAPACITY = 8192;
    /** Default time a queued listener has to deliver its queue when stopping. */
    public static final long DEFAULT_DELIVERY_TIMEOUT_MILLIS = 5000;

    private final Server server;
    private final Connector connector;
    private final ConnectionRegistry registry = new ConnectionRegistry();
    private final StateReporter reporter = new StateReporter();
    private final IdleClose idleClose = new IdleClose(this::keepAliveTimeoutMillis);
    private final KeepAliveTimeout keepAlive = new KeepAliveTimeout(idleClose);
    private final RequestHeaderTimeout requestHeaderTimeout = new RequestHeaderTimeout();
    private final DeadlineScan deadlines = new DeadlineScan(registry, List.of(keepAlive, requestHeaderTimeout));
    private final ClientLimits clientLimits = new ClientLimits();
    private final ConnectionDrain drain = new ConnectionDrain(registry, idleClose, this::stopTimeoutMillis);
    private final JettyEvents events = new JettyEvents(registry, reporter, drain, keepAlive, idleClose, clientLimits, this::isShuttingDown);
    private final ConnectorWiring wiring = new ConnectorWiring(events);
    /** Connectors given to {@link #track(Connector)}: hooked when this starts, or at once if it runs. */
    private final List<Connector> extraConnectors = new CopyOnWriteArrayList<>();
    private int queuedCount;
    private volatile long deliveryTimeoutMillis = DEFAULT_DELIVERY_TIMEOUT_MILLIS;

    /**
     * Tracks every connector of {@code server}; add it as a bean of the server.
     *
     * @param server the server whose connectors to track when this starts
     */
    public ConnStateTracker(@Name("server") Server server)
    {
        this.server = server;
        this.connector = null;
        addBeans();
        // Jetty XML may set the handler after the tracker was made: the chain is looked at when
        // the server starts, after all XML ran, before any handler starts.
        server.addEventListener(new LifeCycle.Listener()
        {
            @Override
            public void lifeCycleStarting(LifeCycle event)
            {
                drain.replaceGracefulHandlers(server);
            }
        });
    }

    /**
     * Tracks one connector; add it as a bean of the connector or of its server.
     *
     * @param connector the connector to track when this starts
     */
    public ConnStateTracker(@Name("connector") Connector connector)
    {
        this.server = null;
        this.connector = connector;
        addBeans();
    }

    /** Its parts: JMX shows them under it, and the scan starts and stops with it. */
    private void addBeans()
    {
        addBean(drain, true);
        addBean(keepAlive, false);
        addBean(requestHeaderTimeout, false);
        addBean(clientLimits, false);
        addBean(deadlines, true);
        keepAlive.onChange(deadlines::changed);
        requestHeaderTimeout.onChange(deadlines::changed);
    }

    /**
     * Creates a tracker for every connector of {@code server}, adds it to the server (so it
     * starts and stops with it) and registers {@code listener} as a queued listener.
     *
     * @param server the server to track
     * @param listener called on every transition, on its own thread
     * @return the tracker
     */
    public static ConnStateTracker attach(Server server, ConnStateListener listener)
    {
        ConnStateTracker tracker = new ConnStateTracker(server);
        tracker.addListener(listener);
        server.addBean(tracker);
        return tracker;
    }

    /**
     * Adds a queued listener named after its class, with the default queue capacity.
     *
     * @param listener called on every transition, on its own thread
     * @return the queue feeding it (its dropped and error counts)
     * @see #addListener(String, ConnStateListener, int)
     */
    public QueuedListener addListener(ConnStateListener listener)
    {
        String name = listener.getClass().isSynthetic() || listener.getClass().isAnonymousClass()
            ? "listener" : listener.getClass().getSimpleName();
        return addListener(name, listener, DEFAULT_QUEUE_CAPACITY);
    }

    /**
     * Adds a listener fed through a bounded queue by a daemon thread of its own: it may block,
     * do I/O or throw without affecting the server. When the queue is full, events are dropped
     * and counted. On stop, the queue is delivered (within {@link #getDeliveryTimeoutMillis()}) and
     * the listener is closed if it is {@link java.io.Closeable}.
     *
     * @param name the listener's name, for its thread and in JMX
     * @param listener called on every transition with an immutable {@link ConnStateEvent}
     * @param capacity the queue's capacity
     * @return the queue feeding it
     */
    public QueuedListener addListener(String name, ConnStateListener listener, int capacity)
    {
        QueuedListener queued;
        synchronized (this)
        {
            queued = new QueuedListener(name + "-" + (++queuedCount), listener, capacity, deliveryTimeoutMillis);
        }
        // A bean first, started at once if the tracker runs (addBean alone starts it only while
        // the tracker starts), so that no event finds it stopped.
        addManaged(queued);
        reporter.addQueued(queued);
        return queued;
    }

    /**
     * Adds a listener called on the Jetty thread that caused the transition, while the
     * connection's transitions are serialized: for cheap, non-blocking, in-memory work only
     * (counters, gauges). It sees the live connection, valid during the call. Its exceptions are
     * counted and logged, never thrown into Jetty.
     *
     * @param listener the listener
     */
    public void addInlineListener(ConnStateListener listener)
    {
        reporter.addInline(listener);
    }

    /**
     * Removes a listener added inline or queued (stopping its queue).
     *
     * @param listener the listener as it was added, or the queue {@link #addListener} returned
     * @return whether it was found
     */
    public boolean removeListener(ConnStateListener listener)
    {
        boolean found = reporter.removeInline(listener);
        QueuedListener queue = reporter.removeQueued(listener);
        if (queue != null)
            removeBean(queue);
        return found || queue != null;
    }

    @ManagedAttribute("Milliseconds a queued listener has to deliver its queue when stopping")
    public long getDeliveryTimeoutMillis()
    {
        return deliveryTimeoutMillis;
    }

    /**
     * @param deliveryTimeoutMillis how long each queued listener, those added already and those added
     * later, may take to deliver its queue when stopping; what is left then is dropped and counted
     */
    public void setDeliveryTimeoutMillis(long deliveryTimeoutMillis)
    {
        if (deliveryTimeoutMillis < 0)
            throw new IllegalArgumentException("Delivery timeout must not be negative: " + deliveryTimeoutMillis);
        this.deliveryTimeoutMillis = deliveryTimeoutMillis;
        for (QueuedListener queue : reporter.queuedListeners())
            queue.setDeliveryTimeoutMillis(deliveryTimeoutMillis);
    }

    /**
     * @return the queues of the queued listeners
     */
    public List<QueuedListener> getQueuedListeners()
    {
        return getBeans(QueuedListener.class).stream().toList();
    }

    /**
     * Tracks one more connector, besides those this tracker was made for: a connector that is not
     * among the server's when this starts (Spring Boot takes its connectors off the server while
     * the server starts, and puts them back before it starts them), or one of another server (Spring
     * Boot's management server). Its connections are reported, counted and drained like the
     * others. Call it before the connector starts; it is hooked at once if this runs, else when
     * this starts. Tracking a connector twice does nothing.
     *
     * @param connector the connector to track
     */
    public void track(Connector connector)
    {
        synchronized (extraConnectors)
        {
            // Once: what is on the list is hooked when this starts, or was when it was added.
            if (extraConnectors.contains(connector))
                return;
            extraConnectors.add(connector);
            if (isStarting() || isStarted())
                attach(connector);
        }
    }

    private void attach(Connector c)
    {
        if (Protocols.speaksHttp3(c))
        {
            LOG.info("Not tracking {}: its HTTP/3 clients' QUIC connections are not reported (their TCP connections to the other connectors are)", c);
            return;
        }
        wiring.attach(c);
        drain.attach(c);
    }

    @Override
    protected void doStart() throws Exception
    {
        // One clear line on a Jetty whose behaviour this was not made for, rather than wrong states.
        JettyVersion.check();
        // Queued listeners (beans) start first, so no event finds them stopped.
        super.doStart();
        synchronized (extraConnectors)
        {
            for (Connector c : connectors())
                attach(c);
        }
    }

    @Override
    protected void doStop() throws Exception
    {
        wiring.detachAll();
        // Jetty stops connectors before beans, but it closes their sockets on its executor: some
        // close events may still be on their way, and their connections are closed or closing.
        // They end here as they would have there. Anything still open belongs to a connector that
        // outlives the tracker, which can no longer watch it: reported closed too, and logged.
        int open = 0;
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                EndPoint root = conn.root();
                if (!conn.state().isTerminal() && root.isOpen() && !isShuttingDown())
                    open++;
                CloseReasons.trackerStopped(conn);
                events.end(conn, root.getConnection());
                // A hijacked one too: the tracker keeps nothing.
                registry.forget(conn);
            }
        }
        if (open > 0)
            LOG.warn("Stopped while {} connections of running connectors were open; reported them closed", open);
        registry.clear();
        // Then the queued listeners deliver what they have and close.
        super.doStop();
    }

    private long keepAliveTimeoutMillis()
    {
        return keepAlive.getTimeoutMillis();
    }

    /**
     * @return the keep-alive timeout: how long a connection may stay {@code idle} before the
     * server closes it, apart from the connector's idle timeout (off by default)
     */
    @ManagedAttribute("The keep-alive timeout, apart from the connectors' idle timeout")
    public KeepAliveTimeout getKeepAlive()
    {
        return keepAlive;
    }

    /**
     * @return the request header timeout: how long a request head may take before the server
     * closes the connection (off by default)
     */
    @ManagedAttribute("The request header timeout")
    public RequestHeaderTimeout getRequestHeaderTimeout()
    {
        return requestHeaderTimeout;
    }

    /** @return the caps of connections per client address (off by default) */
    @ManagedAttribute("The caps of connections per client address")
    public ClientLimits getClientLimits()
    {
        return clientLimits;
    }

    /** @return connections refused at their accept since start, because their client was at a cap */
    @ManagedAttribute("Connections refused at their accept because their client was at a cap (jetty.connstate.client.*)")
    public long getRejectedConnections()
    {
        return clientLimits.getRejected();
    }

    /**
     * @return requests that raced an idle close since start: sent by their client after the server
     * began to close the connection idle (keep-alive timeout or drain), refused, never handled
     */
    @ManagedAttribute("Requests that arrived on a connection the server was closing idle (keep-alive timeout or drain), and got no response")
    public long getKeepAliveRaces()
    {
        return idleClose.races();
    }

    private long stopTimeoutMillis()
    {
        Server owner = server != null ? server : connector.getServer();
        return owner == null ? 0 : owner.getStopTimeout();
    }

    /**
     * @return the drain that a graceful stop runs (Jetty's {@code stopTimeout > 0}): its settings,
     * counts and {@link ConnectionDrain#drain(long)}
     */
    @ManagedAttribute("The drain a graceful stop runs")
    public ConnectionDrain getDrain()
    {
        return drain;
    }

    /**
     * Drains the connections now, as Go's {@code Server.Shutdown} does, before a stop: see
     * {@link ConnectionDrain}.
     *
     * @param timeoutMillis when to close what is left (hijacked connections aside); 0 for never
     * @return completed when no tracked connection is left
     */
    public CompletableFuture<Void> drain(long timeoutMillis)
    {
        return drain.drain(timeoutMillis);
    }

    /**
     * @return whether the server (or the tracked connector) is stopping, so that it closes connections itself
     */
    private boolean isShuttingDown()
    {
        return (server != null && server.isStopping()) || (connector != null && connector.isStopping());
    }

    // ---- what operators and tests read ----

    /**
     * @return a copy of the connections tracked now, live views of each: open ones, and hijacked
     * ones whose socket is still open
     */
    public List<ConnInfo> getOpenConnections()
    {
        return List.copyOf(registry.all());
    }

    /**
     * @return the connectors this tracks: the server's connectors now, or the one connector it
     * was made for, and those given to {@link #track(Connector)} (what metrics read to name a
     * connection's connector); never an HTTP/3 connector, whose QUIC connections are not tracked
     */
    public List<Connector> getTrackedConnectors()
    {
        List<Connector> all = connectors();
        all.removeIf(Protocols::speaksHttp3);
        return List.copyOf(all);
    }

    /** @return the server's connectors now (or the one this was made for), then those given to {@link #track(Connector)} */
    private List<Connector> connectors()
    {
        List<Connector> all = new ArrayList<>(server != null ? List.of(server.getConnectors()) : List.of(connector));
        for (Connector c : extraConnectors)
        {
            if (!all.contains(c))
                all.add(c);
        }
        return all;
    }

    @ManagedAttribute("Connections tracked now, including hijacked ones whose socket is still open")
    public int getTrackedConnections()
    {
        return registry.size();
    }

    /**
     * Counts the tracked connections in {@code state}; it walks them all, which takes
     * microseconds per thousand connections.
     *
     * @param state {@code NEW}, {@code ACTIVE} or {@code IDLE}
     * @return how many connections are in that state now (0 for terminal states)
     */
    public long countConnections(ConnState state)
    {
        return state.isTerminal() ? 0 : registry.count(state);
    }

    @ManagedAttribute("Connections now in state new")
    public long getNewConnections()
    {
        return countConnections(ConnState.NEW);
    }

    @ManagedAttribute("Connections now in state active")
    public long getActiveConnections()
    {
        return countConnections(ConnState.ACTIVE);
    }

    @ManagedAttribute("Connections now in state idle")
    public long getIdleConnections()
    {
        return countConnections(ConnState.IDLE);
    }

    @ManagedAttribute("Connections opened since start")
    public long getOpenedTotal()
    {
        return reporter.opened();
    }

    @ManagedAttribute("Connections closed since start")
    public long getClosedTotal()
    {
        return reporter.closed();
    }

    @ManagedAttribute("Connections hijacked since start")
    public long getHijackedTotal()
    {
        return reporter.hijacked();
    }

    /**
     * Counts the requests of the connections tracked now (walking them all, as the gauges do)
     * and of those gone: no shared counter moves per request.
     *
     * @return the requests begun since the tracker was made; never less than the last figure read
     */
    @ManagedAttribute("Requests begun since start")
    public long getRequestsTotal()
    {
        return registry.requestsTotal();
    }

    /**
     * @return the TLS connections open now whose handshake has not completed: Kestrel's
     * {@code kestrel.active_tls_handshakes}; it walks the connections, as {@link #countConnections(ConnState)}
     */
    @ManagedAttribute("TLS connections whose handshake is in progress now")
    public long getTlsHandshakesInProgress()
    {
        long count = 0;
        for (TrackedConnection conn : registry.all())
        {
            if (conn.secure() && conn.tls() == null && conn.state() == ConnState.NEW)
                count++;
        }
        return count;
    }

    /**
     * @return the TLS connections that ended before their handshake completed, since start: the
     * handshake failed, or the client closed or timed out during it
     */
    @ManagedAttribute("TLS connections that ended before their handshake completed, since start")
    public long getTlsHandshakeFailures()
    {
        return events.tlsHandshakeFailures();
    }

    @ManagedAttribute("Illegal transitions refused (a bug if not zero)")
    public long getIllegalTransitions()
    {
        return reporter.illegalTransitions();
    }

    @ManagedAttribute("Exceptions thrown by inline listeners")
    public long getListenerErrors()
    {
        return reporter.listenerErrors();
    }

    @ManagedAttribute("Internal errors caught before they reached Jetty (a bug if not zero)")
    public long getInternalErrors()
    {
        return events.internalErrors();
    }

    /**
     * @param state {@code NEW}, {@code ACTIVE} or {@code IDLE}
     * @return how long the connection that has been in {@code state} the longest has been in it, in milliseconds; 0 if none is
     */
    public long getOldestMillis(ConnState state)
    {
        return TimeUnit.NANOSECONDS.toMillis(registry.oldestNanos(state));
    }

    @ManagedAttribute("Milliseconds the longest-waiting connection in state new has been waiting for its first request")
    public long getOldestNewMillis()
    {
        return getOldestMillis(ConnState.NEW);
    }

    @ManagedAttribute("Milliseconds the longest-running connection in state active has been active")
    public long getOldestActiveMillis()
    {
        return getOldestMillis(ConnState.ACTIVE);
    }

    @ManagedAttribute("Milliseconds the longest-idle connection in state idle has been idle")
    public long getOldestIdleMillis()
    {
        return getOldestMillis(ConnState.IDLE);
    }

    /**
     * Closes every connection that is idle now, as Go's {@code Server.Shutdown} does first.
     * A connection that turns active meanwhile is left alone.
     *
     * @return how many connections were closed
     */
    @ManagedOperation(value = "Closes every connection now idle, as Go's Shutdown does first", impact = "ACTION")
    public int closeIdleConnections()
    {
        int count = 0;
        for (TrackedConnection conn : registry.all())
        {
            synchronized (conn)
            {
                // Under the lock no HTTP/1 request can begin on it: what is idle here is closed idle.
                // HTTP/2 streams are counted before they take the lock: one may have just begun.
                if (conn.state() != ConnState.IDLE || conn.activeStreams() > 0)
                    continue;
                CloseReasons.closedLocally(conn);
                conn.close();
                count++;
            }
        }
        return count;
    }

    /**
     * @return one line per tracked connection: id, addresses, state, time in state, protocol, requests
     */
    @ManagedOperation(value = "Lists the tracked connections, one per line", impact = "INFO")
    public String dumpConnections()
    {
        long now = System.nanoTime();
        StringBuilder table = new StringBuilder();
        registry.all().stream().sorted(Comparator.comparingLong(TrackedConnection::id)).forEach(conn ->
            table.append(conn).append(" for ").append(TimeUnit.NANOSECONDS.toMillis(now - conn.sinceNanos())).append(" ms\n"));
        return table.toString();
    }

    @Override
    public void dump(Appendable out, String indent) throws IOException
    {
        dumpObjects(out, indent, new DumpableCollection("connections", registry.all()));
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,tracked=%d,new=%d,active=%d,idle=%d}", getClass().getSimpleName(), hashCode(), getState(),
            registry.size(), getNewConnections(), getActiveConnections(), getIdleConnections());
    }
}
