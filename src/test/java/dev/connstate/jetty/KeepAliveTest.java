package dev.connstate.jetty;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.connstate.CapturedLog;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FuturePromise;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The keep-alive timeout ({@link KeepAliveTimeout}) and the races of idle closes
 * ({@link IdleClose}): exact sequences, close reasons, race flags and counts, what the client
 * received, and how often the handler ran.
 */
public class KeepAliveTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    private static final long CONNECTOR_IDLE_TIMEOUT = 30_000;

    /** The hello handler, counting its calls. */
    private static final class Counting extends Handler.Abstract
    {
        private final AtomicInteger calls = new AtomicInteger();

        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            calls.incrementAndGet();
            response.write(true, java.nio.ByteBuffer.wrap(TrackedServer.ascii("hello")), callback);
            return true;
        }
    }

    private static TrackedServer server(Counting handler, long keepAliveMillis, long idleTimeoutMillis) throws Exception
    {
        TrackedServer s = new TrackedServer().handler(handler);
        ServerConnector connector = s.addConnector(new HttpConnectionFactory(s.httpConfig), new HTTP2CServerConnectionFactory(s.httpConfig));
        connector.setIdleTimeout(idleTimeoutMillis);
        s.tracker.getKeepAlive().setTimeoutMillis(keepAliveMillis);
        return s.start();
    }

    private static ConnStateEvent closed(TrackedServer s, int clientPort)
    {
        List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
        ConnStateEvent last = events.get(events.size() - 1);
        assertEquals(ConnState.CLOSED, last.state(), events::toString);
        return last;
    }

    private static void getOk(Socket socket) throws Exception
    {
        Raw.write(socket, GET);
        Raw.Response response = Raw.read(socket.getInputStream());
        assertEquals(200, response.status());
        assertEquals("hello", response.text());
    }

    @Test
    public void http1IdleClosedByTheKeepAliveTimeout() throws Exception
    {
        Counting handler = new Counting();
        try (TrackedServer s = server(handler, 300, CONNECTOR_IDLE_TIMEOUT); Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            long idleSince = System.nanoTime();
            // The server's FIN, at the keep-alive timeout: nothing more came before it.
            assertEquals(-1, socket.getInputStream().read());
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - idleSince);
            assertTrue(waitedMillis >= 250 && waitedMillis < 10_000, "closed after " + waitedMillis + " ms");
            socket.close();
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            ConnStateEvent closed = closed(s, socket.getLocalPort());
            assertEquals(CloseReason.KEEP_ALIVE_TIMEOUT, closed.reason());
            assertFalse(closed.race());
            assertTrue(closed.previousMillis() >= 300, closed.toString());
            assertEquals(0, s.tracker.getKeepAliveRaces());
            assertEquals(1, handler.calls.get());
        }
    }

    /** Over TLS the close is TLS's close_notify, then the FIN. */
    @Test
    public void tlsIdleClosedByTheKeepAliveTimeout() throws Exception
    {
        Counting handler = new Counting();
        TrackedServer s = new TrackedServer().handler(handler);
        s.addTlsConnector();
        s.tracker.getKeepAlive().setTimeoutMillis(300);
        s.start();
        try (s; Socket socket = dev.connstate.Tls.connect(s.port()))
        {
            getOk(socket);
            assertEquals(-1, socket.getInputStream().read(), "close_notify, then the FIN");
            socket.close();
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            ConnStateEvent closed = closed(s, socket.getLocalPort());
            assertEquals(CloseReason.KEEP_ALIVE_TIMEOUT, closed.reason());
            assertFalse(closed.race());
            assertTrue(closed.secure());
            assertEquals(1, handler.calls.get());
        }
    }

    @Test
    public void http2IdleClosedWithAGoAway() throws Exception
    {
        Counting handler = new Counting();
        HTTP2Client client = new HTTP2Client();
        client.start();
        try (TrackedServer s = server(handler, 300, CONNECTOR_IDLE_TIMEOUT))
        {
            CompletableFuture<GoAwayFrame> goAway = new CompletableFuture<>();
            FuturePromise<Session> connected = new FuturePromise<>();
            client.connect(new InetSocketAddress("127.0.0.1", s.port()), new Session.Listener()
            {
                @Override
                public void onGoAway(Session session, GoAwayFrame frame)
                {
                    goAway.complete(frame);
                }
            }, connected);
            Session session = connected.get(10, TimeUnit.SECONDS);
            int clientPort = ((InetSocketAddress)session.getLocalSocketAddress()).getPort();
            CompletableFuture<Integer> status = new CompletableFuture<>();
            MetaData.Request request = new MetaData.Request("GET", HttpURI.from("http://127.0.0.1:" + s.port() + "/"), HttpVersion.HTTP_2, HttpFields.EMPTY);
            session.newStream(new HeadersFrame(request, null, true), new Stream.Listener()
            {
                @Override
                public void onHeaders(Stream stream, HeadersFrame frame)
                {
                    status.complete(((MetaData.Response)frame.getMetaData()).getStatus());
                    stream.demand();
                }
            });
            assertEquals(200, status.get(10, TimeUnit.SECONDS));
            GoAwayFrame frame = goAway.get(10, TimeUnit.SECONDS);
            assertEquals(0, frame.getError(), "a graceful GOAWAY (NO_ERROR)");
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
            ConnStateEvent closed = closed(s, clientPort);
            assertEquals(CloseReason.KEEP_ALIVE_TIMEOUT, closed.reason());
            assertFalse(closed.race());
            assertEquals("h2c", closed.protocol());
        }
        finally
        {
            client.stop();
        }
    }

    /**
     * A keep-alive timeout longer than the connector's idle timeout: the idle connection outlives
     * the connector's timeout, serves a next request, then closes at the keep-alive timeout.
     */
    @Test
    public void longerThanTheConnectorsIdleTimeout() throws Exception
    {
        Counting handler = new Counting();
        try (TrackedServer s = server(handler, 1500, 300); Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            // Idle twice as long as the connector's idle timeout allows, and still open.
            Wait.until("the connection to be idle for 600 ms", () -> s.tracker.getOldestIdleMillis() >= 600);
            getOk(socket);
            long idleSince = System.nanoTime();
            assertEquals(-1, socket.getInputStream().read());
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - idleSince);
            assertTrue(waitedMillis >= 1400, "closed after " + waitedMillis + " ms");
            socket.close();
            assertEquals(seq("new", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            assertEquals(CloseReason.KEEP_ALIVE_TIMEOUT, closed(s, socket.getLocalPort()).reason());
            assertEquals(2, handler.calls.get());
        }
    }

    /** Turned off while a connection is idle with its idle timeout raised: the connector's applies again. */
    @Test
    public void turnedOffTheConnectorsIdleTimeoutAppliesAgain() throws Exception
    {
        Counting handler = new Counting();
        try (TrackedServer s = server(handler, 20_000, 300); Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            Wait.until("the connection to be idle for 600 ms", () -> s.tracker.getOldestIdleMillis() >= 600);
            long offSince = System.nanoTime();
            s.tracker.getKeepAlive().setTimeoutMillis(0);
            assertEquals(-1, socket.getInputStream().read());
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - offSince);
            assertTrue(waitedMillis < 5000, "closed after " + waitedMillis + " ms");
            socket.close();
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            assertEquals(CloseReason.IDLE_TIMEOUT, closed(s, socket.getLocalPort()).reason());
        }
    }

    /**
     * The connector's idle timeout still applies to a request head that stalls on a kept-alive
     * connection, though the keep-alive timeout is far longer.
     */
    @Test
    public void aStalledRequestHeadIsClosedAtTheConnectorsIdleTimeout() throws Exception
    {
        Counting handler = new Counting();
        try (TrackedServer s = server(handler, 20_000, 300); Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            Raw.write(socket, "GET / HTTP/1.1\r\nHost: loc");
            long stalledSince = System.nanoTime();
            InputStream in = socket.getInputStream();
            // Jetty answers a timed-out head with 408, or closes; then the FIN.
            new String(in.readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
            long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stalledSince);
            assertTrue(waitedMillis >= 250 && waitedMillis < 5000, "closed after " + waitedMillis + " ms");
            socket.close();
            assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            assertEquals(CloseReason.IDLE_TIMEOUT, closed(s, socket.getLocalPort()).reason());
            assertEquals(1, handler.calls.get());
        }
    }

    /** Bytes of a request that came before the deadline keep the connection: the request is served. */
    @Test
    public void aRequestAlreadyBegunAtTheDeadlineIsServed() throws Exception
    {
        Counting handler = new Counting();
        try (TrackedServer s = server(handler, 300, CONNECTOR_IDLE_TIMEOUT); Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            Raw.write(socket, "GET / HTTP/1.1\r\n");
            Wait.until("the connection to be idle past its keep-alive timeout and two scans", () -> s.tracker.getOldestIdleMillis() >= 600);
            Raw.write(socket, "Host: localhost\r\n\r\n");
            Raw.Response response = Raw.read(socket.getInputStream());
            assertEquals(200, response.status());
            assertEquals(-1, socket.getInputStream().read());
            socket.close();
            assertEquals(seq("new", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            ConnStateEvent closed = closed(s, socket.getLocalPort());
            assertEquals(CloseReason.KEEP_ALIVE_TIMEOUT, closed.reason());
            assertFalse(closed.race());
            assertEquals(2, handler.calls.get());
        }
    }

    /**
     * A request sent after the server's FIN (the keep-alive close began): refused, never handled,
     * counted as a race; the client gets no response.
     */
    @Test
    public void aRequestRacingTheKeepAliveCloseIsCountedAndNeverHandled() throws Exception
    {
        assertARequestAfterTheFinIsARace(300);
    }

    /**
     * The same with a keep-alive timeout longer than the linger: the linger counts from the FIN,
     * not from the connection's last I/O (which would close it at once, before the race).
     */
    @Test
    public void aRequestRacingALongerKeepAliveCloseIsCounted() throws Exception
    {
        assertARequestAfterTheFinIsARace(1500);
    }

    private static void assertARequestAfterTheFinIsARace(long keepAliveMillis) throws Exception
    {
        Counting handler = new Counting();
        try (TrackedServer s = server(handler, keepAliveMillis, CONNECTOR_IDLE_TIMEOUT))
        {
            int clientPort = sendAfterTheFin(s);
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
            ConnStateEvent closed = closed(s, clientPort);
            assertEquals(CloseReason.KEEP_ALIVE_TIMEOUT, closed.reason());
            assertTrue(closed.race(), closed.toString());
            assertEquals(1, s.tracker.getKeepAliveRaces());
            assertEquals(1, handler.calls.get(), "the racing request reached the handler");
        }
    }

    /**
     * One request on a new connection, then, after the server's FIN, another: as a load balancer
     * does that has not seen the FIN yet. Waits until the connection ended.
     *
     * @return the client's port
     */
    private static int sendAfterTheFin(TrackedServer s) throws Exception
    {
        try (Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            assertEquals(-1, socket.getInputStream().read(), "the server's FIN");
            Raw.write(socket, GET);
            s.recorder.awaitEnd(socket.getLocalPort());
            return socket.getLocalPort();
        }
    }

    /** Races are logged: one WARN line with what to do, then nothing more for 5 minutes. */
    @Test
    public void racesAreLoggedOnceWithWhatToDo() throws Exception
    {
        Counting handler = new Counting();
        List<String> warnings;
        String log;
        try (CapturedLog captured = new CapturedLog(IdleClose.class); TrackedServer s = server(handler, 300, CONNECTOR_IDLE_TIMEOUT))
        {
            for (int race = 1; race <= 2; race++)
            {
                sendAfterTheFin(s);
                int races = race;
                Wait.until(race + " race(s) counted", () -> s.tracker.getKeepAliveRaces() == races);
            }
            warnings = captured.lines("keep-alive race");
            log = captured.all();
        }
        assertEquals(1, warnings.size(), log);
        assertTrue(warnings.get(0).contains(":WARN :") && warnings.get(0).contains("1 keep-alive race(s) since the last report"), warnings.get(0));
        assertTrue(warnings.get(0).contains("set jetty.connstate.keepAliveTimeout (now 300 ms) above it"), warnings.get(0));
        assertEquals(2, handler.calls.get());
    }

    /** The drain's idle closes count races the same way. */
    @Test
    public void aRequestRacingTheDrainsIdleCloseIsCounted() throws Exception
    {
        Counting handler = new Counting();
        TrackedServer s = server(handler, 0, CONNECTOR_IDLE_TIMEOUT);
        s.server.setStopTimeout(10_000);
        try (s; Socket socket = Raw.connect(s.port()))
        {
            getOk(socket);
            Wait.until("the connection to be idle", () -> s.tracker.getIdleConnections() == 1);
            CompletableFuture<Void> stopped = CompletableFuture.runAsync(() ->
            {
                try
                {
                    s.server.stop();
                }
                catch (Exception x)
                {
                    throw new CompletionException(x);
                }
            });
            InputStream in = socket.getInputStream();
            assertEquals(-1, in.read(), "the server's FIN");
            Raw.write(socket, GET);
            stopped.get(15, TimeUnit.SECONDS);
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            ConnStateEvent closed = closed(s, socket.getLocalPort());
            assertEquals(CloseReason.DRAIN, closed.reason());
            assertTrue(closed.race(), closed.toString());
            assertEquals(1, s.tracker.getKeepAliveRaces());
            assertEquals(1, handler.calls.get());
            socket.close();
        }
    }
}
