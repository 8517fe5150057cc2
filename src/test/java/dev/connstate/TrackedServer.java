package dev.connstate;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import dev.connstate.jetty.ConnStateTracker;
import dev.connstate.sink.ConnLogSink;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * An embedded Jetty on 127.0.0.1 with a tracker and an inline {@link Recorder}; closing it
 * stops the server and checks that every connection ended and nothing is left tracked.
 */
public class TrackedServer implements AutoCloseable
{
    public final Server server;
    public final ConnStateTracker tracker;
    public final Recorder recorder = new Recorder();
    public final HttpConfiguration httpConfig = new HttpConfiguration();
    private ServerConnector connector;

    public TrackedServer()
    {
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("server");
        server = new Server(threads);
        tracker = new ConnStateTracker(server);
        tracker.addInlineListener(recorder);
        server.addBean(tracker);
        server.setHandler(new Hello());
    }

    /** Adds a connector on a free port of 127.0.0.1 with these factories (HTTP/1.1 alone if none). */
    public ServerConnector addConnector(ConnectionFactory... factories)
    {
        if (factories.length == 0)
            factories = new ConnectionFactory[]{new HttpConnectionFactory(httpConfig)};
        ServerConnector c = new ServerConnector(server, 1, 1, factories);
        c.setHost("127.0.0.1");
        c.setPort(0);
        server.addConnector(c);
        if (connector == null)
            connector = c;
        return c;
    }

    /** Adds a connector on a free port of 127.0.0.1 with HTTP/1.1 over TLS (the tests' certificate). */
    public ServerConnector addTlsConnector() throws Exception
    {
        HttpConnectionFactory http = new HttpConnectionFactory(httpConfig);
        return addConnector(new SslConnectionFactory(Tls.server(), http.getProtocol()), http);
    }

    public TrackedServer handler(Handler handler)
    {
        server.setHandler(handler);
        return this;
    }

    public TrackedServer configure(Consumer<TrackedServer> configurer)
    {
        configurer.accept(this);
        return this;
    }

    public TrackedServer start() throws Exception
    {
        if (connector == null)
            addConnector();
        server.start();
        return this;
    }

    public int port()
    {
        return connector.getLocalPort();
    }

    public int port(ServerConnector c)
    {
        return c.getLocalPort();
    }

    /** A raw client connection to the first connector. */
    public RawClient connect() throws IOException
    {
        return client(Raw.connect(port()));
    }

    /** A raw TLS client connection to the first connector, handshake done, sending no SNI. */
    public RawClient connectTls() throws Exception
    {
        return client(Tls.connect(port()));
    }

    /** A raw TLS client connection to the first connector, handshake done, sending {@code sniHost}. */
    public RawClient connectTls(String sniHost) throws Exception
    {
        return client(Tls.connect(port(), sniHost));
    }

    /** {@code socket}, connected to this server, as a raw client that knows its sequence. */
    public RawClient client(Socket socket)
    {
        return new RawClient(recorder, socket);
    }

    @Override
    public void close() throws Exception
    {
        try
        {
            Wait.until("all connections to end", Wait.TIMEOUT, recorder::open, List::isEmpty);
            Wait.until("the tracker to forget every connection", () -> tracker.getTrackedConnections() == 0);
            assertEquals(List.of(), recorder.violations(), "contract violations");
            assertEquals(List.of(), connectionLogMismatches(), "connection log records unlike their transitions");
            assertEquals(0, tracker.getIllegalTransitions(), "illegal transitions");
            assertEquals(0, tracker.getInternalErrors(), "internal errors");
            assertEquals(0, tracker.getNewConnections() + tracker.getActiveConnections() + tracker.getIdleConnections(), "per-state gauges");
            assertEquals(tracker.getOpenedTotal(), tracker.getClosedTotal() + tracker.getHijackedTotal(), "opened = closed + hijacked");
        }
        finally
        {
            server.stop();
        }
    }

    /**
     * Every recorded connection's connection-log record, against the one its transitions make:
     * the suite's connections, with every close reason, check the record.
     */
    private List<String> connectionLogMismatches()
    {
        List<String> mismatches = new ArrayList<>();
        for (long id : recorder.ids())
        {
            List<ConnStateEvent> events = recorder.events(id);
            ConnStateEvent end = events.get(events.size() - 1);
            String record = ConnLogSink.record(end);
            String derived = ConnLogRecords.derived(events, ConnLogRecords.count(end.totals().bytesIn()), ConnLogRecords.count(end.totals().bytesOut()));
            if (!ConnLogRecords.same(record, derived))
                mismatches.add("#" + id + ": " + record + " but its transitions make " + derived);
        }
        return mismatches;
    }

    /**
     * A started plain Jetty server, without a tracker, answering "hello" on a free port of
     * 127.0.0.1: the far end of a CONNECT tunnel.
     */
    public static Server startHelloServer() throws Exception
    {
        Server target = helloServer();
        target.start();
        return target;
    }

    /**
     * A plain Jetty server, not started, without a tracker, that will answer "hello" on a free
     * port of 127.0.0.1 (one acceptor, one selector): for tests that add beans of their own first.
     */
    public static Server helloServer()
    {
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new Hello());
        return server;
    }

    /** @return the local port of {@code server}'s first connector */
    public static int portOf(Server server)
    {
        return ((ServerConnector)server.getConnectors()[0]).getLocalPort();
    }

    /** Answers "hello" to everything. */
    public static class Hello extends Handler.Abstract
    {
        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            Content.Sink.write(response, true, "hello", callback);
            return true;
        }
    }

    public static byte[] ascii(String s)
    {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
