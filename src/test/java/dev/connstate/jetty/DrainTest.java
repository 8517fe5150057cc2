package dev.connstate.jetty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.connstate.Wait;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.Recorder;
import dev.connstate.TrackedServer;
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
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.ManagedSelector;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.NetworkConnector;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The graceful drain, as Jetty's graceful stop drives it ({@code stopTimeout > 0}): what each
 * connection's sequence and close reason become, and what its client receives.
 */
public class DrainTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    private static final long STOP_TIMEOUT = 15_000;

    /** Stops the server on a thread of its own, as a SIGTERM would: the drain runs first. */
    private static CompletableFuture<Void> stopAsync(TrackedServer s)
    {
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
        AbstractConnector connector = (AbstractConnector)s.server.getConnectors()[0];
        Wait.until("the graceful stop to begin", () -> (connector.isShutdown() && (s.tracker.getDrain().isDraining() || !s.tracker.getDrain().isEnabled())) || stopped.isDone());
        return stopped;
    }

    /**
     * The request on {@code socket} is answered whole ("hello", 200, no 503) with
     * {@code Connection: close}, then the server closes; the stop completes, and the connection
     * went active, then closed by the drain, never idle.
     */
    private static void servedThenClosedByTheDrain(TrackedServer s, Socket socket, CompletableFuture<Void> stopped) throws Exception
    {
        Raw.Response response = Raw.read(socket.getInputStream());
        assertEquals(200, response.status(), "no 503");
        assertEquals("hello", response.text());
        assertEquals("close", response.header("Connection"));
        assertEquals(0, readToEof(socket.getInputStream()).length);
        stopped.get(10, TimeUnit.SECONDS);
        assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
        assertEquals(CloseReason.DRAIN, reason(s, socket.getLocalPort()));
        assertDrained(s, 0, 1, 0, 0);
    }

    /** Waits until the server has read the first bytes a client sent (a request on its way, no handler yet). */
    private static void awaitFirstBytesRead(TrackedServer s)
    {
        org.eclipse.jetty.server.Connector connector = s.server.getConnectors()[0];
        Wait.until("the first bytes read", () -> connector.getConnectedEndPoints().stream()
            .anyMatch(endPoint -> endPoint.getConnection() != null && endPoint.getConnection().getBytesIn() > 0));
    }

    /** Jetty's stop throws the graceful phase's timeout, after it stopped everything. */
    private static void assertTimedOut(CompletableFuture<Void> stopped)
    {
        ExecutionException x = assertThrows(ExecutionException.class, () -> stopped.get(10, TimeUnit.SECONDS));
        assertEquals(TimeoutException.class, x.getCause().getClass(), String.valueOf(x.getCause()));
    }

    private static void assertDrained(TrackedServer s, long closedIdle, long finished, long closedNew, long forced)
    {
        ConnectionDrain drain = s.tracker.getDrain();
        assertEquals(List.of(closedIdle, finished, closedNew, forced), List.of(drain.getClosedIdle(), drain.getFinished(), drain.getClosedNew(), drain.getForced()),
            "closed idle, finished their request, closed new, forced");
    }

    private static CloseReason reason(TrackedServer s, int clientPort)
    {
        List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
        return events.get(events.size() - 1).reason();
    }

    /** Reads to the end of the stream: what the server sent before it closed. */
    private static byte[] readToEof(InputStream in) throws IOException
    {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        in.transferTo(out);
        return out.toByteArray();
    }

    @Test
    public void idleConnectionClosesAtOnce() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            s.server.setStopTimeout(STOP_TIMEOUT);
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                long id = s.recorder.idOfClientPort(clientPort);
                Wait.until("idle", () -> s.recorder.sequence(id).equals(seq("new", "active", "idle")));

                CompletableFuture<Void> stopped = stopAsync(s);
                // The server closes the idle connection: end of stream, nothing more sent.
                assertEquals(0, readToEof(socket.getInputStream()).length);
                stopped.get(10, TimeUnit.SECONDS);
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
                assertEquals(CloseReason.DRAIN, reason(s, clientPort));
                assertDrained(s, 1, 0, 0, 0);
            }
        }
    }

    /** Holds every selector of the connector until {@code release}: what arrives on its sockets stays unread. */
    private static void holdSelectors(ServerConnector connector, CountDownLatch release) throws InterruptedException
    {
        Collection<ManagedSelector> selectors = connector.getSelectorManager().getBeans(ManagedSelector.class);
        assertFalse(selectors.isEmpty(), "the connector's selectors");
        CountDownLatch held = new CountDownLatch(selectors.size());
        for (ManagedSelector selector : selectors)
        {
            selector.submit(ignored ->
            {
                held.countDown();
                try
                {
                    release.await(30, TimeUnit.SECONDS);
                }
                catch (InterruptedException x)
                {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertTrue(held.await(10, TimeUnit.SECONDS), "the selectors held");
    }

    /** @return the bytes that arrived on the server's end of the socket and that Jetty has not read */
    private static int unread(EndPoint endPoint) throws IOException
    {
        return ((SocketChannel)endPoint.getTransport()).socket().getInputStream().available();
    }

    /**
     * A request that reached the socket of an idle connection, but that Jetty has not read yet
     * (its selector is late, as under load), is not dropped: the drain sees its bytes waiting in
     * the socket and leaves the connection to Jetty, which serves the request with
     * {@code Connection: close}.
     */
    @Test
    public void requestWaitingUnreadOnAnIdleConnectionIsServed() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            ServerConnector connector = (ServerConnector)s.server.getConnectors()[0];
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                long id = s.recorder.idOfClientPort(clientPort);
                Wait.until("idle", () -> s.recorder.sequence(id).equals(seq("new", "active", "idle")));
                EndPoint endPoint = connector.getConnectedEndPoints().iterator().next();

                CountDownLatch release = new CountDownLatch(1);
                holdSelectors(connector, release);
                Raw.write(socket, GET);
                Wait.until("the request waiting unread in the socket", () ->
                {
                    try
                    {
                        return unread(endPoint) == GET.length();
                    }
                    catch (IOException x)
                    {
                        return false;
                    }
                });
                // The drain's first scan runs on this thread, while the request waits.
                CompletableFuture<Void> drained = s.tracker.drain(10_000);
                release.countDown();

                Raw.Response response = Raw.read(socket.getInputStream());
                assertEquals(200, response.status());
                assertEquals("close", response.header("Connection"));
                assertEquals(0, readToEof(socket.getInputStream()).length);
                assertNull(drained.get(10, TimeUnit.SECONDS));
                assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(clientPort));
                assertEquals(CloseReason.DRAIN, reason(s, clientPort));
                assertDrained(s, 0, 1, 0, 0);
            }
        }
    }

    /**
     * A response that ends once the drain has begun but before the connector has shut down (it
     * closes its listening socket first, which takes milliseconds at times) is persistent: Jetty
     * keeps the connection, without {@code Connection: close}. If its client says nothing more,
     * the connection is idle, and the drain closes it as any idle one, at once: it does not wait
     * for a close that Jetty will not make.
     */
    @Test
    public void aResponseEndingBeforeTheConnectorShutDownLeavesAnIdleConnectionThatTheDrainCloses() throws Exception
    {
        CountDownLatch shuttingDown = new CountDownLatch(1);
        CountDownLatch letShutDown = new CountDownLatch(1);
        Http2Test.Gate gate = new Http2Test.Gate(1);
        TrackedServer s = new TrackedServer().handler(gate);
        // A connector whose shutdown is slow, as closing a listening socket is at times.
        ServerConnector slow = new ServerConnector(s.server, 1, 1, new HttpConnectionFactory(s.httpConfig))
        {
            @Override
            public CompletableFuture<Void> shutdown()
            {
                shuttingDown.countDown();
                try
                {
                    letShutDown.await(15, TimeUnit.SECONDS);
                }
                catch (InterruptedException x)
                {
                    Thread.currentThread().interrupt();
                }
                return super.shutdown();
            }
        };
        slow.setHost("127.0.0.1");
        s.server.addConnector(slow);
        try (s)
        {
            s.start();
            try (Socket socket = Raw.connect(slow.getLocalPort()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, "GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(gate.arrived.await(10, TimeUnit.SECONDS));

                CompletableFuture<CompletableFuture<Void>> draining = CompletableFuture.supplyAsync(() -> s.tracker.drain(10_000));
                assertTrue(shuttingDown.await(10, TimeUnit.SECONDS), "the drain shuts the connector down");
                gate.release.countDown();
                Raw.Response response = Raw.read(socket.getInputStream());
                assertEquals(200, response.status());
                assertNull(response.header("Connection"), "the connector was not shut down yet: the response persists");
                // The response ends before the connector shuts down: Jetty before 12.1.6 ends the
                // request (its stream observer) after the client may already have the response.
                long id = s.recorder.idOfClientPort(clientPort);
                Wait.until("the response to end, the connection idle", () -> s.recorder.sequence(id).equals(seq("new", "active", "idle")));
                letShutDown.countDown();

                // The client says nothing more.
                assertNull(draining.get(10, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS), "the drain is done well before its deadline");
                assertEquals(0, readToEof(socket.getInputStream()).length);
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
                assertEquals(CloseReason.DRAIN, reason(s, clientPort));
                assertDrained(s, 1, 0, 0, 0);
            }
        }
    }

    @Test
    public void requestInFlightIsServedWithConnectionClose() throws Exception
    {
        Http2Test.Gate gate = new Http2Test.Gate(1);
        try (TrackedServer s = new TrackedServer().handler(gate).start())
        {
            s.server.setStopTimeout(STOP_TIMEOUT);
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, "GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(gate.arrived.await(10, TimeUnit.SECONDS));

                CompletableFuture<Void> stopped = stopAsync(s);
                gate.release.countDown();
                servedThenClosedByTheDrain(s, socket, stopped);
            }
        }
    }

    @Test
    public void requestArrivingDuringTheDrainIsServedWithConnectionClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            s.server.setStopTimeout(STOP_TIMEOUT);
            s.tracker.getDrain().setNewGraceMillis(200);
            try (Socket socket = Raw.connect(s.port()))
            {
                // Half a request head: the connection is new, with a request on its way.
                Raw.write(socket, "GET / HTTP/1.1\r\n");
                awaitFirstBytesRead(s);

                CompletableFuture<Void> stopped = stopAsync(s);
                // Past the grace: a new connection that sent bytes is left to finish its request.
                Wait.until("the grace to pass", () -> s.tracker.getOldestNewMillis() > 200 + 3 * ConnectionDrain.SCAN_MILLIS);
                assertFalse(stopped.isDone());
                Raw.write(socket, "Host: localhost\r\n\r\n");
                servedThenClosedByTheDrain(s, socket, stopped);
            }
        }
    }

    @Test
    public void pipelinedRequestsAfterTheOneInFlightAreNotServed() throws Exception
    {
        Http2Test.Gate gate = new Http2Test.Gate(1);
        try (TrackedServer s = new TrackedServer().handler(gate).start())
        {
            s.server.setStopTimeout(STOP_TIMEOUT);
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, "GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n" + GET);
                assertTrue(gate.arrived.await(10, TimeUnit.SECONDS));

                CompletableFuture<Void> stopped = stopAsync(s);
                gate.release.countDown();
                // The request in flight is answered whole, with Connection: close; the one
                // pipelined behind it is not read: the client must retry it elsewhere.
                servedThenClosedByTheDrain(s, socket, stopped);
                assertEquals(1, s.recorder.events(s.recorder.idOfClientPort(clientPort)).get(2).requests());
            }
        }
    }

    @Test
    public void newConnectionWithoutBytesClosesAfterTheGrace() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            s.server.setStopTimeout(STOP_TIMEOUT);
            s.tracker.getDrain().setNewGraceMillis(300);
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Wait.until("new", () -> s.tracker.getNewConnections() == 1);

                CompletableFuture<Void> stopped = stopAsync(s);
                assertEquals(0, readToEof(socket.getInputStream()).length);
                stopped.get(10, TimeUnit.SECONDS);
                assertEquals(seq("new", "closed"), s.recorder.awaitEnd(clientPort));
                List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
                assertEquals(CloseReason.DRAIN, events.get(1).reason());
                // Not before its grace, counted from its accept.
                assertTrue(events.get(1).ageMillis() >= 300, "closed after " + events.get(1).ageMillis() + " ms");
                assertDrained(s, 0, 0, 1, 0);
            }
        }
    }

    @Test
    public void h2cStreamInFlightCompletesAfterTheGoAway() throws Exception
    {
        Http2Test.Gate gate = new Http2Test.Gate(1);
        TrackedServer s = new TrackedServer().handler(gate);
        s.addConnector(new HttpConnectionFactory(s.httpConfig), new HTTP2CServerConnectionFactory(s.httpConfig));
        try (s)
        {
            s.start();
            s.server.setStopTimeout(STOP_TIMEOUT);
            HTTP2Client client = new HTTP2Client();
            client.start();
            try
            {
                CountDownLatch goAway = new CountDownLatch(1);
                CountDownLatch sessionClosed = new CountDownLatch(1);
                Session session = client.connect(new InetSocketAddress("127.0.0.1", s.port()), new Session.Listener()
                {
                    @Override
                    public void onGoAway(Session session, GoAwayFrame frame)
                    {
                        goAway.countDown();
                    }

                    @Override
                    public void onClose(Session session, GoAwayFrame frame, org.eclipse.jetty.util.Callback callback)
                    {
                        sessionClosed.countDown();
                        callback.succeeded();
                    }
                }).get(10, TimeUnit.SECONDS);
                CompletableFuture<String> body = new CompletableFuture<>();
                CompletableFuture<Integer> status = new CompletableFuture<>();
                MetaData.Request request = new MetaData.Request("GET", HttpURI.from("http://127.0.0.1:" + s.port() + "/wait"), HttpVersion.HTTP_2, HttpFields.EMPTY);
                session.newStream(new HeadersFrame(request, null, true), new Stream.Listener()
                {
                    private final ByteArrayOutputStream content = new ByteArrayOutputStream();

                    @Override
                    public void onHeaders(Stream stream, HeadersFrame frame)
                    {
                        status.complete(((MetaData.Response)frame.getMetaData()).getStatus());
                        stream.demand();
                    }

                    @Override
                    public void onDataAvailable(Stream stream)
                    {
                        Stream.Data data = stream.readData();
                        if (data == null)
                        {
                            stream.demand();
                            return;
                        }
                        ByteBuffer buffer = data.frame().getByteBuffer();
                        byte[] bytes = new byte[buffer.remaining()];
                        buffer.get(bytes);
                        content.writeBytes(bytes);
                        data.release();
                        if (data.frame().isEndStream())
                            body.complete(content.toString(java.nio.charset.StandardCharsets.US_ASCII));
                        else
                            stream.demand();
                    }
                }).get(10, TimeUnit.SECONDS);
                assertTrue(gate.arrived.await(10, TimeUnit.SECONDS));
                long id = s.recorder.ids().iterator().next();

                CompletableFuture<Void> stopped = stopAsync(s);
                assertTrue(goAway.await(10, TimeUnit.SECONDS), "a GOAWAY at once, with the stream in flight");
                gate.release.countDown();
                assertEquals(200, status.get(10, TimeUnit.SECONDS));
                assertEquals("hello", body.get(10, TimeUnit.SECONDS), "the stream in flight completes");
                assertTrue(sessionClosed.await(10, TimeUnit.SECONDS), "then the connection closes");
                stopped.get(10, TimeUnit.SECONDS);
                Wait.until("closed", () -> s.recorder.isTerminated(id));
                assertEquals(seq("new", "active", "closed"), s.recorder.sequence(id));
                List<ConnStateEvent> events = s.recorder.events(id);
                assertEquals(CloseReason.DRAIN, events.get(2).reason());
                assertEquals("h2c", events.get(2).protocol());
                assertDrained(s, 0, 1, 0, 0);
            }
            finally
            {
                client.stop();
            }
        }
    }

    /**
     * A connection the application took over (here a raw 101 upgrade to an echo protocol; Jetty's
     * own WebSocket container says goodbye to its sessions itself when the server shuts down) is
     * the application's: the drain neither waits for it nor closes it. Jetty's stop waits for it
     * until the stop timeout, then closes it.
     */
    @Test
    public void hijackedConnectionIsLeftToTheApplicationUntilTheDeadline() throws Exception
    {
        Handler upgrading = HijackTest.echoUpgrade();
        try (TrackedServer s = new TrackedServer().handler(upgrading).start())
        {
            s.server.setStopTimeout(1500);
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
                assertEquals(101, Raw.readHead(socket.getInputStream()).status());
                assertEquals(seq("new", "active", "hijacked"), s.recorder.awaitEnd(clientPort));

                CompletableFuture<Void> stopped = stopAsync(s);
                // The drain is done at once (nothing else is open), and leaves the connection alone.
                Wait.until("the drain to end", () -> s.tracker.getDrain().isDone());
                Raw.write(socket, "still here");
                assertEquals("still here", new String(socket.getInputStream().readNBytes(10), java.nio.charset.StandardCharsets.US_ASCII));
                assertFalse(stopped.isDone(), "the server waits for the connection until its stop timeout");
                // At the deadline Jetty closes it, and its stop reports the timeout.
                assertEquals(0, readToEof(socket.getInputStream()).length);
                assertTimedOut(stopped);
                assertEquals(seq("new", "active", "hijacked"), s.recorder.sequence(s.recorder.idOfClientPort(clientPort)));
                assertDrained(s, 0, 0, 0, 0);
            }
        }
    }

    @Test
    public void theDeadlineForcesWhatRemains() throws Exception
    {
        Http2Test.Gate gate = new Http2Test.Gate(1);
        try (TrackedServer s = new TrackedServer().handler(gate).start())
        {
            s.server.setStopTimeout(500);
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, "GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(gate.arrived.await(10, TimeUnit.SECONDS));

                CompletableFuture<Void> stopped = stopAsync(s);
                // The handler does not finish in time: at the deadline the server closes the connection.
                assertEquals(0, readToEof(socket.getInputStream()).length);
                assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
                assertEquals(CloseReason.DRAIN_TIMEOUT, reason(s, clientPort));
                gate.release.countDown();
                assertTimedOut(stopped);
                assertDrained(s, 0, 0, 0, 1);
            }
        }
    }

    @Test
    public void anExplicitDrainRefusesNewClientsAndClosesIdleOnes() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int port = s.port();
            try (Socket socket = Raw.connect(port))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                long id = s.recorder.idOfClientPort(clientPort);
                Wait.until("idle", () -> s.recorder.sequence(id).equals(seq("new", "active", "idle")));

                CompletableFuture<Void> drained = s.tracker.drain(10_000);
                assertEquals(0, readToEof(socket.getInputStream()).length);
                assertNull(drained.get(10, TimeUnit.SECONDS));
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
                assertEquals(CloseReason.DRAIN, reason(s, clientPort));
                assertDrained(s, 1, 0, 0, 0);
                assertTrue(s.tracker.getDrain().isDraining());
            }
            // The listening socket is closed: a new client is refused, not left in the backlog.
            // (The kernel lets it go once the acceptor thread, woken by the close, has left
            // accept(): a connect in that instant still lands in the backlog.)
            assertTrue(s.tracker.getTrackedConnectors().stream().noneMatch(c -> c instanceof NetworkConnector network && network.isOpen()));
            Wait.until("new clients to be refused", () ->
            {
                try (Socket refused = new Socket("127.0.0.1", port))
                {
                    return false;
                }
                catch (ConnectException x)
                {
                    return true;
                }
                catch (IOException x)
                {
                    throw new UncheckedIOException(x);
                }
            });
        }
    }

    /** Half a request head, a graceful stop, the rest of the head: what the late request gets. */
    private static Raw.Response requestCompletedDuringTheStop(TrackedServer s) throws Exception
    {
        s.server.setStopTimeout(STOP_TIMEOUT);
        try (Socket socket = Raw.connect(s.port()))
        {
            Raw.write(socket, "GET / HTTP/1.1\r\n");
            awaitFirstBytesRead(s);
            CompletableFuture<Void> stopped = stopAsync(s);
            Raw.write(socket, "Host: localhost\r\n\r\n");
            Raw.Response response = Raw.read(socket.getInputStream());
            socket.close();
            stopped.get(10, TimeUnit.SECONDS);
            return response;
        }
    }

    @Test
    public void theGracefulModulesHandlerGivesNo503WithTheDrain() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new GracefulHandler(new TrackedServer.Hello())).start())
        {
            assertFalse(s.server.getHandler() instanceof GracefulHandler, "taken out when the server started");
            Raw.Response response = requestCompletedDuringTheStop(s);
            assertEquals(200, response.status());
            assertEquals("close", response.header("Connection"));
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitAllEnded(1).values().iterator().next());
        }
    }

    @Test
    public void withTheDrainOffTheGracefulModulesHandlerAnswers503() throws Exception
    {
        Http2Test.Gate gate = new Http2Test.Gate(1);
        TrackedServer s = new TrackedServer().handler(new GracefulHandler(gate));
        s.tracker.getDrain().setEnabled(false);
        try (s)
        {
            s.start();
            assertTrue(s.server.getHandler() instanceof GracefulHandler, "left alone");
            s.server.setStopTimeout(STOP_TIMEOUT);
            try (Socket socket = Raw.connect(s.port()); Socket held = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                assertEquals(200, Raw.read(socket.getInputStream()).status());
                // A request in flight holds Jetty's graceful phase open while the next request
                // arrives; without it the stop could close the kept-alive connection first.
                Raw.write(held, "GET /wait HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertTrue(gate.arrived.await(10, TimeUnit.SECONDS));
                CompletableFuture<Void> stopped = stopAsync(s);
                Wait.until("Jetty's graceful stop to begin", ((GracefulHandler)s.server.getHandler())::isShutdown);
                // Jetty's own graceful stop (jetty/jetty.project#2749): the next request on a
                // kept-alive connection is refused.
                Raw.write(socket, GET);
                assertEquals(503, Raw.read(socket.getInputStream()).status());
                socket.close();
                gate.release.countDown();
                assertEquals(200, Raw.read(held.getInputStream()).status(), "the request in flight finishes");
                stopped.get(10, TimeUnit.SECONDS);
                assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(clientPort));
            }
        }
    }

    @Test
    public void withTheDrainOffJettyStopsAlone() throws Exception
    {
        TrackedServer s = new TrackedServer();
        s.tracker.getDrain().setEnabled(false);
        try (s)
        {
            s.start();
            s.server.setStopTimeout(STOP_TIMEOUT);
            try (Socket socket = Raw.connect(s.port()))
            {
                int clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                s.server.stop();
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
                assertFalse(List.of(CloseReason.DRAIN, CloseReason.DRAIN_TIMEOUT).contains(reason(s, clientPort)));
                assertDrained(s, 0, 0, 0, 0);
            }
        }
    }
}
