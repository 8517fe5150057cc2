package dev.connstate.jetty;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.CloseReason;
import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.eclipse.jetty.util.annotation.ManagedOperation;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.util.annotation.Name;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.eclipse.jetty.util.component.DumpableCollection;
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
 */
@ManagedObject("Reports connection states as Go's http.Server.ConnState does")
public class ConnStateTracker extends ContainerLifeCycle
{
    private static final Logger LOG = LoggerFactory.getLogger(ConnStateTracker.class);
    /** Connection ids are unique within the JVM, across trackers and restarts. */
    private static final AtomicLong IDS = new AtomicLong();

    /** Default capacity of a queued listener's queue. */
    public static final int DEFAULT_QUEUE_CAPACITY = 8192;
    /** Default time a queued listener has to deliver its queue when stopping. */
    public static final long DEFAULT_DRAIN_MILLIS = 5000;

    private final Server server;
    private final Connector connector;
    private final JettyEvents events = new JettyEvents(this);
    private final Map<EndPoint, TrackedConnection> connections = new ConcurrentHashMap<>();
    /** Hijacked connections by socket, until the socket closes (the takeover may carry no listener). */
    private final Map<Object, TrackedConnection> hijackedSockets = new ConcurrentHashMap<>();
    private final List<Connector> attachedConnectors = new ArrayList<>();
    private final Set<HttpConfiguration> attachedConfigurations = Collections.newSetFromMap(new IdentityHashMap<>());
    private volatile ConnStateListener[] inlineListeners = new ConnStateListener[0];
    private volatile ConnStateListener[] queuedListeners = new ConnStateListener[0];
    private final LongAdder opened = new LongAdder();
    private final LongAdder closed = new LongAdder();
    private final LongAdder hijacked = new LongAdder();
    /** Requests of the connections no longer tracked; those of tracked ones are counted on read. */
    private final LongAdder requestsOfForgotten = new LongAdder();
    /** The last requests total read: the total never steps back, even while a connection moves from one count to the other. */
    private final AtomicLong requestsTotalRead = new AtomicLong();
    private final LongAdder illegalTransitions = new LongAdder();
    private final LongAdder listenerErrors = new LongAdder();
    private final LongAdder internalErrors = new LongAdder();
    private final AtomicBoolean illegalLogged = new AtomicBoolean();
    private final RateLimitedLog errorLog = new RateLimitedLog(LOG, 10, TimeUnit.SECONDS);
    private int queuedCount;
    private long drainMillis = DEFAULT_DRAIN_MILLIS;

    /**
     * Tracks every connector of {@code server}; add it as a bean of the server.
     *
     * @param server the server whose connectors to track when this starts
     */
    public ConnStateTracker(@Name("server") Server server)
    {
        this.server = server;
        this.connector = null;
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
     * and counted. On stop, the queue is delivered (within {@link #getDrainMillis()}) and
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
            queued = new QueuedListener(name + "-" + (++queuedCount), listener, capacity, drainMillis);
            queuedListeners = append(queuedListeners, queued);
        }
        addBean(queued, true);
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
        synchronized (this)
        {
            inlineListeners = append(inlineListeners, listener);
        }
    }

    /**
     * Removes a listener added inline or queued (stopping its queue).
     *
     * @param listener the listener as it was added
     * @return whether it was found
     */
    public boolean removeListener(ConnStateListener listener)
    {
        QueuedListener removedQueue = null;
        boolean found;
        synchronized (this)
        {
            int before = inlineListeners.length;
            inlineListeners = Arrays.stream(inlineListeners).filter(l -> l != listener).toArray(ConnStateListener[]::new);
            found = inlineListeners.length != before;
            for (ConnStateListener l : queuedListeners)
            {
                if (l instanceof QueuedListener q && (q == listener || q.getListener() == listener))
                    removedQueue = q;
            }
            if (removedQueue != null)
            {
                QueuedListener gone = removedQueue;
                queuedListeners = Arrays.stream(queuedListeners).filter(l -> l != gone).toArray(ConnStateListener[]::new);
                found = true;
            }
        }
        if (removedQueue != null)
            removeBean(removedQueue);
        return found;
    }

    private static ConnStateListener[] append(ConnStateListener[] array, ConnStateListener listener)
    {
        ConnStateListener[] result = Arrays.copyOf(array, array.length + 1);
        result[array.length] = listener;
        return result;
    }

    @ManagedAttribute("Milliseconds a queued listener has to deliver its queue when stopping")
    public long getDrainMillis()
    {
        return drainMillis;
    }

    /**
     * @param drainMillis how long each queued listener added afterwards may take to deliver its
     * queue when stopping; what is left then is dropped and counted
     */
    public void setDrainMillis(long drainMillis)
    {
        if (drainMillis < 0)
            throw new IllegalArgumentException("Drain time must not be negative: " + drainMillis);
        this.drainMillis = drainMillis;
    }

    /**
     * @return the queues of the queued listeners
     */
    public List<QueuedListener> getQueuedListeners()
    {
        return getBeans(QueuedListener.class).stream().toList();
    }

    @Override
    protected void doStart() throws Exception
    {
        // Queued listeners (beans) start first, so no event finds them stopped.
        super.doStart();
        if (server != null)
        {
            for (Connector c : server.getConnectors())
                attach(c);
        }
        if (connector != null)
            attach(connector);
    }

    @Override
    protected void doStop() throws Exception
    {
        detachAll();
        // Jetty stops connectors before beans, but it closes their sockets on its executor: some
        // close events may still be on their way, and their connections are closed or closing.
        // They end here as they would have there. Anything still open belongs to a connector that
        // outlives the tracker, which can no longer watch it: reported closed too, and logged.
        int open = 0;
        for (TrackedConnection conn : connections.values())
        {
            synchronized (conn)
            {
                EndPoint root = conn.root();
                if (!conn.state().isTerminal() && root.isOpen() && !isShuttingDown())
                    open++;
                if (conn.closing == null)
                    conn.closing = CloseReason.LOCAL_CLOSE;
                events.closed(conn, root.getConnection() != null ? root.getConnection() : conn.http1);
                forget(conn);
            }
        }
        if (open > 0)
            LOG.warn("Stopped while {} connections of running connectors were open; reported them closed", open);
        connections.clear();
        hijackedSockets.clear();
        // Then the queued listeners deliver what they have and close.
        super.doStop();
    }

    private void attach(Connector c)
    {
        synchronized (attachedConnectors)
        {
            if (attachedConnectors.contains(c))
                return;
            attachedConnectors.add(c);
        }
        c.addEventListener(events);
        // ServerConnector passes accept listeners to its selector manager only when it starts.
        for (SelectorManager manager : c.getContainedBeans(SelectorManager.class))
            manager.addEventListener(events);
        for (ConnectionFactory factory : c.getConnectionFactories())
        {
            if (factory instanceof HttpConfiguration.ConnectionFactory httpFactory)
            {
                HttpConfiguration configuration = httpFactory.getHttpConfiguration();
                synchronized (attachedConfigurations)
                {
                    if (attachedConfigurations.add(configuration))
                    {
                        configuration.addCustomizer(events);
                        configuration.addComplianceViolationListener(events.requestEnds());
                    }
                }
            }
        }
        if (LOG.isDebugEnabled())
            LOG.debug("Tracking connection states of {}", c);
    }

    private void detachAll()
    {
        synchronized (attachedConnectors)
        {
            for (Connector c : attachedConnectors)
            {
                c.removeEventListener(events);
                for (SelectorManager manager : c.getContainedBeans(SelectorManager.class))
                    manager.removeEventListener(events);
            }
            attachedConnectors.clear();
        }
        synchronized (attachedConfigurations)
        {
            for (HttpConfiguration configuration : attachedConfigurations)
            {
                configuration.getCustomizers().remove(events);
                configuration.removeComplianceViolationListener(events.requestEnds());
            }
            attachedConfigurations.clear();
        }
    }

    // ---- the registry of tracked connections, called by JettyEvents ----

    TrackedConnection lookup(EndPoint root)
    {
        return connections.get(root);
    }

    TrackedConnection newConnection(EndPoint root)
    {
        return new TrackedConnection(IDS.incrementAndGet(), root, System.nanoTime());
    }

    /** Caller holds {@code conn}'s lock. */
    void register(TrackedConnection conn)
    {
        connections.put(conn.root(), conn);
    }

    /** Caller holds {@code conn}'s lock. */
    void announceNew(TrackedConnection conn)
    {
        opened.increment();
        notifyListeners(conn, ConnState.NEW);
    }

    /**
     * Moves {@code conn} to {@code next} and tells the listeners; caller holds {@code conn}'s lock.
     *
     * @return whether the transition was legal and happened
     */
    boolean transition(TrackedConnection conn, ConnState next)
    {
        return transition(conn, next, System.nanoTime());
    }

    /**
     * @param atNanos when the transition happened ({@link System#nanoTime()}), not before the
     * current state was entered
     */
    boolean transition(TrackedConnection conn, ConnState next, long atNanos)
    {
        ConnState from = conn.state();
        if (!conn.moveTo(next, atNanos))
        {
            illegalTransition(conn, from, next);
            return false;
        }
        // No per-state counters to move: the gauges count the registry when read, which keeps
        // a request's two transitions free of shared writes.
        if (next.isTerminal())
            (next == ConnState.CLOSED ? closed : hijacked).increment();
        notifyListeners(conn, next);
        return true;
    }

    /**
     * @return whether the server (or the tracked connector) is stopping, so that it closes connections itself
     */
    boolean isShuttingDown()
    {
        return (server != null && server.isStopping()) || (connector != null && connector.isStopping());
    }

    /** Caller holds {@code conn}'s lock. */
    void afterHijack(TrackedConnection conn)
    {
        EndPoint root = conn.root();
        Object socket = root.getTransport();
        if (socket != null)
            hijackedSockets.put(socket, conn);
        // The socket may have closed before it was registered: then no close event will come.
        if (!root.isOpen())
            forget(conn);
    }

    /** Caller holds {@code conn}'s lock. */
    void forget(TrackedConnection conn)
    {
        EndPoint root = conn.root();
        // Its requests move to the forgotten ones after it left the registry: a total read in
        // between misses them for a moment (the total read before stands), never counts them twice.
        if (connections.remove(root, conn))
            requestsOfForgotten.add(conn.requests());
        // Only a hijacked connection is registered by socket.
        if (conn.state() != ConnState.HIJACKED)
            return;
        Object socket = root.getTransport();
        if (socket != null)
            hijackedSockets.remove(socket, conn);
    }

    void socketClosed(Object socket)
    {
        TrackedConnection conn = hijackedSockets.get(socket);
        if (conn != null)
        {
            synchronized (conn)
            {
                forget(conn);
            }
        }
    }

    private void notifyListeners(TrackedConnection conn, ConnState state)
    {
        for (ConnStateListener listener : inlineListeners)
        {
            try
            {
                listener.onStateChange(conn, state);
            }
            catch (Throwable x)
            {
                listenerErrors.increment();
                errorLog.warn("Inline listener failed:", listener, x);
            }
        }
        ConnStateListener[] queued = queuedListeners;
        if (queued.length > 0)
        {
            ConnStateEvent event = conn.snapshot();
            for (ConnStateListener listener : queued)
                listener.onStateChange(event, state);
        }
    }

    private void illegalTransition(TrackedConnection conn, ConnState from, ConnState to)
    {
        illegalTransitions.increment();
        if (illegalLogged.compareAndSet(false, true))
            LOG.warn("Refused illegal transition {} -> {} of connection {}: a bug of jetty-connstate, please report it (further ones are only counted in illegalTransitions)", from, to, conn);
    }

    void internalError(String where, Throwable x)
    {
        internalErrors.increment();
        errorLog.warn("Internal error in", where, x);
    }

    // ---- what operators and tests read ----

    /**
     * @return the connections tracked now: open ones, and hijacked ones whose socket is still open
     */
    public Collection<ConnInfo> getConnections()
    {
        return List.copyOf(connections.values());
    }

    @ManagedAttribute("Connections tracked now, including hijacked ones whose socket is still open")
    public int getTrackedConnections()
    {
        return connections.size();
    }

    /**
     * Counts the tracked connections in {@code state}; it walks them all, which takes
     * microseconds per thousand connections.
     *
     * @param state {@code NEW}, {@code ACTIVE} or {@code IDLE}
     * @return how many connections are in that state now (0 for terminal states)
     */
    public long getConnections(ConnState state)
    {
        if (state.isTerminal())
            return 0;
        long count = 0;
        for (TrackedConnection conn : connections.values())
        {
            if (conn.state() == state)
                count++;
        }
        return count;
    }

    @ManagedAttribute("Connections now in state new")
    public long getNewConnections()
    {
        return getConnections(ConnState.NEW);
    }

    @ManagedAttribute("Connections now in state active")
    public long getActiveConnections()
    {
        return getConnections(ConnState.ACTIVE);
    }

    @ManagedAttribute("Connections now in state idle")
    public long getIdleConnections()
    {
        return getConnections(ConnState.IDLE);
    }

    @ManagedAttribute("Connections opened since start")
    public long getOpenedTotal()
    {
        return opened.sum();
    }

    @ManagedAttribute("Connections closed since start")
    public long getClosedTotal()
    {
        return closed.sum();
    }

    @ManagedAttribute("Connections hijacked since start")
    public long getHijackedTotal()
    {
        return hijacked.sum();
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
        // The forgotten first: a connection forgotten while this walks the registry is then missed, not counted twice.
        long total = requestsOfForgotten.sum();
        for (TrackedConnection conn : connections.values())
            total += conn.requests();
        return requestsTotalRead.accumulateAndGet(total, Math::max);
    }

    @ManagedAttribute("Illegal transitions refused (a bug if not zero)")
    public long getIllegalTransitions()
    {
        return illegalTransitions.sum();
    }

    @ManagedAttribute("Exceptions thrown by inline listeners")
    public long getListenerErrors()
    {
        return listenerErrors.sum();
    }

    @ManagedAttribute("Internal errors caught before they reached Jetty (a bug if not zero)")
    public long getInternalErrors()
    {
        return internalErrors.sum();
    }

    /**
     * @param state {@code NEW}, {@code ACTIVE} or {@code IDLE}
     * @return how long the connection that has been in {@code state} the longest has been in it, in milliseconds; 0 if none is
     */
    public long getOldestMillis(ConnState state)
    {
        long now = System.nanoTime();
        long oldest = 0;
        for (TrackedConnection conn : connections.values())
        {
            if (conn.state() == state)
                oldest = Math.max(oldest, now - conn.sinceNanos());
        }
        return TimeUnit.NANOSECONDS.toMillis(oldest);
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
        for (TrackedConnection conn : connections.values())
        {
            synchronized (conn)
            {
                // Under the lock no HTTP/1 request can begin on it: what is idle here is closed idle.
                // HTTP/2 streams are counted before they take the lock: one may have just begun.
                if (conn.state() != ConnState.IDLE || conn.activeStreams() > 0)
                    continue;
                conn.closing = CloseReason.LOCAL_CLOSE;
                Connection connection = conn.root().getConnection();
                if (connection != null)
                    connection.close();
                else
                    conn.root().close();
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
        connections.values().stream().sorted(java.util.Comparator.comparingLong(TrackedConnection::id)).forEach(conn ->
            table.append(conn).append(" for ").append(TimeUnit.NANOSECONDS.toMillis(now - conn.sinceNanos())).append(" ms\n"));
        return table.toString();
    }

    @Override
    public void dump(Appendable out, String indent) throws IOException
    {
        dumpObjects(out, indent, new DumpableCollection("connections", connections.values()));
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{%s,tracked=%d,new=%d,active=%d,idle=%d}", getClass().getSimpleName(), hashCode(), getState(),
            connections.size(), getNewConnections(), getActiveConnections(), getIdleConnections());
    }
}
