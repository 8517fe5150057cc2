package dev.connstate.jetty;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.SocketAddress;

import dev.connstate.CloseReason;
import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateMachine;
import dev.connstate.ConnTotals;
import dev.connstate.TlsInfo;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ssl.SslConnection;

/**
 * One tracked TCP connection: its state machine and the facts listeners read.
 *
 * <p>Its fields are its own: the classes that decide what a Jetty event means for it
 * ({@link Http1Requests}, {@link Http2Streams}, {@link CloseReasons}) change it through its
 * methods, under its lock where they say so.</p>
 *
 * <p>Transitions and the fields they touch are guarded by this object's monitor (held by
 * {@link ConnStateTracker} while it moves the state and notifies listeners), so the
 * transitions of one connection are totally ordered even when Jetty reports them from
 * different threads. Fields read by other threads (JMX, dumps) are volatile.</p>
 */
final class TrackedConnection extends ConnStateMachine implements ConnInfo
{
    private static final VarHandle REQUESTS;
    private static final VarHandle ACTIVE_STREAMS;

    static
    {
        try
        {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            REQUESTS = lookup.findVarHandle(TrackedConnection.class, "requests", long.class);
            ACTIVE_STREAMS = lookup.findVarHandle(TrackedConnection.class, "activeStreams", int.class);
        }
        catch (ReflectiveOperationException x)
        {
            throw new ExceptionInInitializerError(x);
        }
    }

    private final long id;
    private final EndPoint root;
    private final long openedAtMillis;
    private final long openedNanos;
    private volatile SocketAddress remote;
    private volatile SocketAddress local;
    private volatile String protocol = Protocols.UNKNOWN;
    private volatile boolean secure;
    /**
     * Incremented on every request: HTTP/1 under this lock (a release store, not a fenced
     * volatile one), HTTP/2 streams atomically without it. The two never overlap: on one socket
     * HTTP/1 requests all come before HTTP/2 streams (h2c upgrades one way). Read by any thread.
     */
    private long requests;
    private volatile CloseReason reason;
    private volatile boolean race;
    /** What the deadlines and the caps keep of it, made when one of them first needs it; under this lock. */
    private Guards guards;
    private volatile TlsInfo tls;
    /**
     * HTTP/2 streams between request begin and the last of their response (or their end).
     * Counted atomically without this lock: only the streams that take it from 0 to 1 or back
     * take the lock, to move the state (see {@link Http2Streams}).
     */
    private int activeStreams;
    /** Where the HTTP/1 connection on the socket stands; null before HTTP/1 starts and after an upgrade. Guarded by this. */
    private Http1Requests.Boundary http1;
    /** The connection that speaks HTTP on the socket now (HTTP/1 or HTTP/2), null before one opened. */
    private volatile Connection protocolConnection;
    /** What is known so far of why the connection will close, if it closes now ({@link CloseReasons} decides). Guarded by this. */
    private CloseReason closing;

    TrackedConnection(long id, EndPoint root, long nowNanos)
    {
        super(nowNanos);
        this.id = id;
        this.root = root;
        this.openedNanos = nowNanos;
        this.openedAtMillis = System.currentTimeMillis();
        this.remote = root.getRemoteSocketAddress();
        this.local = root.getLocalSocketAddress();
    }

    EndPoint root()
    {
        return root;
    }

    /** @return {@link System#nanoTime()} when the socket was accepted */
    long openedNanos()
    {
        return openedNanos;
    }

    void addresses(SocketAddress remote, SocketAddress local)
    {
        if (remote != null)
            this.remote = remote;
        if (local != null)
            this.local = local;
    }

    void protocol(String protocol)
    {
        // Set on every request but rarely changed: a volatile write only when it does.
        if (!protocol.equals(this.protocol))
            this.protocol = protocol;
    }

    void secure(boolean secure)
    {
        this.secure = secure;
    }

    /** An HTTP/1 request began; caller holds this lock. */
    void requestBegun()
    {
        REQUESTS.setRelease(this, requests + 1);
    }

    /**
     * An HTTP/2 stream began a request; no lock needed.
     *
     * @return how many streams were active before it
     */
    int streamBegun()
    {
        REQUESTS.getAndAdd(this, 1L);
        return (int)ACTIVE_STREAMS.getAndAdd(this, 1);
    }

    /**
     * An HTTP/2 stream counted by {@link #streamBegun()} no longer is active; no lock needed.
     *
     * @return how many streams are still active
     */
    int streamEnded()
    {
        return (int)ACTIVE_STREAMS.getAndAdd(this, -1) - 1;
    }

    /** @return how many HTTP/2 streams are active now */
    int activeStreams()
    {
        return (int)ACTIVE_STREAMS.getVolatile(this);
    }

    /**
     * @param nanos when something that moves this connection happened ({@link System#nanoTime()})
     * @return {@code nanos}, or when the current state began if that is later: a transition is
     * never stamped before the state it leaves began (HTTP/2 may read a stream's head before the
     * previous stream's end is reported)
     */
    long notBeforeSince(long nanos)
    {
        long since = sinceNanos();
        return nanos - since > 0 ? nanos : since;
    }

    void reason(CloseReason reason)
    {
        this.reason = reason;
    }

    /** A request raced the idle close: reported on {@code closed}. Caller holds this lock. */
    void race(boolean race)
    {
        this.race = race;
    }

    /**
     * What only some connections need: what the keep-alive timeout, the request header timeout
     * and the caps per client keep of a connection, and the bytes of an HTTP/1 connection that
     * h2c replaced. Apart, so that a connection costs no heap for them while they are off.
     */
    private static final class Guards
    {
        /** The byte counts of the HTTP connections the current one replaced (h2c), -1 if none counted. */
        private long replacedBytesIn = -1;
        private long replacedBytesOut = -1;
        /** The socket's idle timeout before {@link #raiseIdleTimeout} raised it, 0 if not raised. */
        private long raisedFrom;
        /** When the request header timeout's scan first saw a later head begin, and at which request count. */
        private long headBegunNanos;
        private long headRequests;
        /** Its client's entry in the caps' table, {@code null} when no cap counts it. */
        private ClientLimits.Client client;
    }

    private Guards guards()
    {
        Guards made = guards;
        if (made == null)
            guards = made = new Guards();
        return made;
    }

    /**
     * Raises the socket's idle timeout to {@code millis} while the connection is idle, unless it
     * is that long already, or infinite. Raising costs Jetty one field write: its scheduled check
     * finds the new timeout when it runs. Caller holds this lock.
     */
    void raiseIdleTimeout(long millis)
    {
        Guards kept = guards;
        if (kept != null && kept.raisedFrom != 0)
            return;
        long current = root.getIdleTimeout();
        if (current <= 0 || current >= millis)
            return;
        guards().raisedFrom = current;
        root.setIdleTimeout(millis);
    }

    /** @return when the request header timeout's scan first saw the current head begin, 0 if none; caller holds this lock */
    long headBegunNanos()
    {
        // A head seen before the last request began is not this one.
        Guards kept = guards;
        return kept != null && kept.headRequests == requests() ? kept.headBegunNanos : 0;
    }

    /** Caller holds this lock. */
    void headBegun(long nanos)
    {
        if (nanos == 0 && guards == null)
            return;
        Guards kept = guards();
        kept.headBegunNanos = nanos;
        kept.headRequests = requests();
    }

    /** @return its client's entry in the caps' table, {@code null} if none counts it; caller holds this lock */
    ClientLimits.Client client()
    {
        Guards kept = guards;
        return kept == null ? null : kept.client;
    }

    /** Caller holds this lock; only {@link ClientLimits} calls it. */
    void client(ClientLimits.Client client)
    {
        if (client == null && guards == null)
            return;
        guards().client = client;
    }

    /** Puts back the idle timeout {@link #raiseIdleTimeout} raised, if it did. Caller holds this lock. */
    void lowerIdleTimeout()
    {
        Guards kept = guards;
        if (kept == null || kept.raisedFrom == 0)
            return;
        long original = kept.raisedFrom;
        kept.raisedFrom = 0;
        root.setIdleTimeout(original);
    }

    /** @return the close reason known so far, {@code null} if none; caller holds this lock */
    CloseReason closing()
    {
        return closing;
    }

    /** Caller holds this lock; only {@link CloseReasons} calls it. */
    void closing(CloseReason closing)
    {
        this.closing = closing;
    }

    /** @return the connection that speaks HTTP on the socket now, {@code null} before one opened */
    Connection protocolConnection()
    {
        return protocolConnection;
    }

    /**
     * An HTTP connection (HTTP/1, or HTTP/2 after h2c) opened on the socket: the one it replaces
     * leaves its byte counts to the connection's totals. Caller holds this lock.
     */
    void protocolConnection(Connection connection)
    {
        Connection replaced = protocolConnection;
        if (replaced != null && replaced != connection)
        {
            Guards kept = guards();
            kept.replacedBytesIn = plus(kept.replacedBytesIn, replaced.getBytesIn());
            kept.replacedBytesOut = plus(kept.replacedBytesOut, replaced.getBytesOut());
        }
        this.protocolConnection = connection;
    }

    /** Adds two of Jetty's byte counts, where -1 means not counted. */
    private static long plus(long a, long b)
    {
        return a < 0 ? b : b < 0 ? a : a + b;
    }

    /**
     * @param in the bytes read, or else those written
     * @return the bytes Jetty counted on the socket so far: the TLS connection's, on the wire;
     * otherwise its HTTP connections'; -1 if none counted them
     */
    private long bytes(boolean in)
    {
        if (root.getConnection() instanceof SslConnection tls)
            return in ? tls.getBytesIn() : tls.getBytesOut();
        Connection http = protocolConnection;
        Guards kept = guards;
        long replaced = kept == null ? -1 : in ? kept.replacedBytesIn : kept.replacedBytesOut;
        return http == null ? replaced : plus(replaced, in ? http.getBytesIn() : http.getBytesOut());
    }

    /**
     * Closes the socket: through its outermost connection, so that TLS says goodbye, or the end
     * point itself when no connection is on it. Jetty then reports the close.
     */
    void close()
    {
        Connection connection = root.getConnection();
        if (connection != null)
            connection.close();
        else
            root.close();
    }

    /**
     * Closes the socket at once, without a goodbye of its protocols (no TLS close_notify, no
     * HTTP/2 GOAWAY, which would wait for the client): for a client the server refuses. Jetty then
     * reports the close.
     */
    void abort()
    {
        root.close();
    }

    /** @return where the HTTP/1 connection stands, {@code null} if none is on the socket; caller holds this lock */
    Http1Requests.Boundary http1()
    {
        return http1;
    }

    /** Caller holds this lock; only {@link Http1Requests} calls it. */
    void http1(Http1Requests.Boundary http1)
    {
        this.http1 = http1;
    }

    void tls(TlsInfo tls)
    {
        this.tls = tls;
    }

    @Override
    public long id()
    {
        return id;
    }

    @Override
    public SocketAddress remote()
    {
        return remote;
    }

    @Override
    public SocketAddress local()
    {
        return local;
    }

    @Override
    public String protocol()
    {
        return protocol;
    }

    @Override
    public boolean secure()
    {
        return secure;
    }

    @Override
    public long requests()
    {
        return (long)REQUESTS.getAcquire(this);
    }

    @Override
    public long openedAtMillis()
    {
        return openedAtMillis;
    }

    @Override
    public long ageNanos()
    {
        // At the transition, not now: the same figure whichever listener reads it, whenever.
        return sinceNanos() - openedNanos;
    }

    @Override
    public CloseReason reason()
    {
        return reason;
    }

    @Override
    public boolean race()
    {
        return race;
    }

    @Override
    public TlsInfo tls()
    {
        return tls;
    }

    /**
     * Made anew on each call, with the byte counts Jetty has at that moment: in a listener call on
     * {@code closed}, all of them (Jetty counts a write when it completes, before the close).
     */
    @Override
    public ConnTotals totals()
    {
        ConnState state = state();
        if (!state.isTerminal())
            return null;
        long active = activeNanos();
        long idle = idleNanos();
        // The states before the end were new, then active and idle: the rest of the age is the wait in new.
        long firstRequest = previous() == ConnState.NEW ? -1 : ageNanos() - active - idle;
        return new ConnTotals(firstRequest, active, idle, bytes(true), bytes(false));
    }

    /** Stamped with the time of the transition, during a listener call: when it happened. */
    @Override
    public ConnStateEvent snapshot()
    {
        long since = sinceNanos();
        return new ConnStateEvent(WallClock.at(since), id, remote, local, protocol, secure, state(), previous(), previousNanos(),
            requests(), openedAtMillis, since - openedNanos, longestIdleNanos(), reason, race, tls, totals());
    }

    @Override
    public String toString()
    {
        return String.format("#%d %s->%s %s %s%s requests=%d", id, remote, local, state(), protocol, secure ? " tls" : "", requests());
    }
}
