package dev.connstate.bench.micro;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.micrometer.ConnStateMeterBinder;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.LocalConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;

/**
 * A started Jetty server whose connections the calling thread opens, drives and closes itself,
 * so that a benchmark measures Jetty's own callbacks into the tracker through public API only.
 *
 * <p>One {@link LocalConnector} (HTTP/1.1 over in-memory end points) with a handler that answers
 * {@code hello}. {@link #open()} accepts a connection the way the connector's acceptor does
 * ({@code LocalConnector.accept}: the default connection factory makes Jetty's HTTP/1
 * connection, which carries the connector's {@link Connection.Listener}s, then
 * {@code onOpen()}), but on the calling thread. A request added to an open end point is parsed
 * and handled on the calling thread too ({@code ByteArrayEndPoint.addInput} runs the fill
 * callback there, and Jetty runs a non-blocking handler in place), and closing the end point
 * calls {@code onClose} as Jetty does. So every callback the tracker hears (the connection
 * listener, the request customizer, the request-end listener of the {@link HttpConfiguration})
 * comes from Jetty, in Jetty's order, on the benchmark thread, without sockets or thread
 * hand-offs.</p>
 *
 * <p>The variants: {@code plain} (no tracker), {@code count} (a tracker without listeners: the
 * counting path), {@code inline} (one inline listener that counts), {@code queued} (one queued
 * listener, by default one that does nothing: the snapshot and the hand-off to its
 * {@link QueuedListener}), {@code metrics} (the tracker and {@link ConnStateMeterBinder} on a
 * Prometheus registry) and {@code micrometer-jetty} (no tracker: Micrometer's own
 * {@code JettyConnectionMetrics}, the peer).</p>
 */
public final class LocalServer implements AutoCloseable
{
    /** The variants, for messages (the benchmarks list them in their {@code @Param}). */
    public static final String VARIANTS = "plain,count,inline,queued,metrics,micrometer-jetty";

    private static final ByteBuffer REQUEST = BufferUtil.toBuffer("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", StandardCharsets.US_ASCII).asReadOnlyBuffer();

    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final InetSocketAddress LOCAL = new InetSocketAddress(LOOPBACK, 8080);

    private final Server server;
    private final LocalConnector connector;
    private final ConnStateTracker tracker;
    private final LongAdder inlineCalls = new LongAdder();
    private final Hello hello;
    private long accepted;

    /**
     * @param variant {@code plain}, {@code count}, {@code inline} or {@code queued}
     * @param workNanos computation each request does in the handler (0: none)
     * @throws Exception if the server does not start
     */
    public LocalServer(String variant, long workNanos) throws Exception
    {
        this(variant, (conn, state) -> { }, workNanos);
    }

    /**
     * @param variant {@code plain}, {@code count}, {@code inline} or {@code queued}
     * @param queued the queued listener of {@code queued}, added before the server starts (a
     * queue added to a running tracker is not started)
     * @param workNanos computation each request does in the handler (0: none)
     * @throws Exception if the server does not start
     */
    public LocalServer(String variant, ConnStateListener queued, long workNanos) throws Exception
    {
        server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        config.setSendDateHeader(false);
        connector = new LocalConnector(server, new HttpConnectionFactory(config));
        // No idle timeout fires during a measurement.
        connector.setIdleTimeout(3_600_000);
        server.addConnector(connector);
        hello = new Hello(Work.roundsFor(workNanos));
        server.setHandler(hello);
        tracker = switch (variant)
        {
            case "plain" -> null;
            case "count" -> new ConnStateTracker(server);
            case "inline" ->
            {
                ConnStateTracker t = new ConnStateTracker(server);
                t.addInlineListener(new Counter(inlineCalls));
                yield t;
            }
            case "queued" ->
            {
                ConnStateTracker t = new ConnStateTracker(server);
                t.addListener("queued", queued, ConnStateTracker.DEFAULT_QUEUE_CAPACITY);
                yield t;
            }
            case "metrics" ->
            {
                ConnStateTracker t = new ConnStateTracker(server);
                new ConnStateMeterBinder(t).bindTo(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                yield t;
            }
            case "micrometer-jetty" ->
            {
                // The peer: Micrometer's own connection metrics, as Spring Boot binds them, no tracker.
                JettyConnectionMetrics.addToAllConnectors(server, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
                yield null;
            }
            default -> throw new IllegalArgumentException("Unknown variant '" + variant + "' (" + VARIANTS + ")");
        };
        if (tracker != null)
            server.addBean(tracker);
        server.start();
    }

    /**
     * @return the tracker, {@code null} for {@code plain}
     */
    public ConnStateTracker tracker()
    {
        return tracker;
    }

    /**
     * @return the connector, which the tracker (if any) has attached itself to
     */
    public LocalConnector connector()
    {
        return connector;
    }

    /**
     * Accepts a connection on the calling thread, as the connector's acceptor would.
     *
     * @return its end point, open
     */
    public LocalConnector.LocalEndPoint open()
    {
        // A client port of its own, as a socket has: sinks format (and cache) addresses per connection.
        InetSocketAddress remote = new InetSocketAddress(LOOPBACK, 1024 + (int)(accepted++ % 64_000));
        LocalConnector.LocalEndPoint endPoint = connector.new LocalEndPoint()
        {
            @Override
            public SocketAddress getRemoteSocketAddress()
            {
                return remote;
            }

            @Override
            public SocketAddress getLocalSocketAddress()
            {
                return LOCAL;
            }
        };
        Connection connection = connector.getDefaultConnectionFactory().newConnection(connector, endPoint);
        endPoint.setConnection(connection);
        endPoint.onOpen();
        connection.onOpen();
        return endPoint;
    }

    /**
     * Sends one keep-alive request and takes its response, all on the calling thread.
     *
     * @param endPoint an end point from {@link #open()}
     * @return the response's length in bytes
     * @throws IllegalStateException if no response came back
     */
    public int request(LocalConnector.LocalEndPoint endPoint)
    {
        endPoint.addInput(REQUEST.duplicate());
        ByteBuffer response = endPoint.takeOutput();
        int length = response.remaining();
        if (length == 0)
            throw new IllegalStateException("No response on the calling thread from " + endPoint);
        return length;
    }

    /**
     * @return the requests the handler has answered
     */
    public long handled()
    {
        return hello.handled.sum();
    }

    /**
     * @return the calls the inline listener of {@code inline} has received
     */
    public long inlineCalls()
    {
        return inlineCalls.sum();
    }

    /**
     * @return what the tracker has seen, for a benchmark to check that it measured something
     */
    public String describe()
    {
        if (tracker == null)
            return "plain: " + handled() + " requests handled";
        StringBuilder text = new StringBuilder();
        text.append(tracker.getOpenedTotal()).append(" opened, ").append(tracker.getClosedTotal()).append(" closed, ")
            .append(tracker.getRequestsTotal()).append(" requests, ").append(handled()).append(" handled, ")
            .append(tracker.getIllegalTransitions()).append(" illegal, ").append(tracker.getInternalErrors()).append(" internal errors");
        for (QueuedListener queue : tracker.getQueuedListeners())
            text.append("; ").append(queue.getName()).append(": ").append(queue.getDelivered()).append(" delivered, ").append(queue.getDropped()).append(" dropped");
        return text.toString();
    }

    /**
     * Stops the server: the tracker reports the connections still open closed, queued listeners
     * deliver what they have.
     */
    @Override
    public void close()
    {
        try
        {
            server.stop();
        }
        catch (Exception x)
        {
            if (x instanceof InterruptedException)
                Thread.currentThread().interrupt();
            throw new IllegalStateException("Cannot stop " + server, x);
        }
    }

    /** An embedded application's inline listener that only counts. */
    private record Counter(LongAdder calls) implements ConnStateListener
    {
        @Override
        public void onStateChange(ConnInfo conn, ConnState state)
        {
            calls.increment();
        }
    }

    /** Answers {@code hello} after an optional fixed computation; non-blocking, so Jetty runs it in place. */
    private static final class Hello extends Handler.Abstract.NonBlocking
    {
        private static final ByteBuffer HELLO = BufferUtil.toBuffer("hello", StandardCharsets.US_ASCII).asReadOnlyBuffer();

        private final long workRounds;
        private final LongAdder handled = new LongAdder();

        Hello(long workRounds)
        {
            this.workRounds = workRounds;
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            handled.increment();
            if (workRounds > 0)
                Work.sink = Work.compute(workRounds);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            response.write(true, HELLO.duplicate(), callback);
            return true;
        }
    }
}
