package dev.connstate.jetty;

import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.connstate.Raw;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Canaries for {@link JettyInternals}: one test per Jetty behaviour that the tracker relies on
 * and that Jetty does not promise. Each reads, from inside Jetty's request-end hook on a real
 * server, what {@link JettyInternals} reads there, and fails with the sentence of the behaviour
 * that a Jetty release changed. Plain Jetty, no tracker: if these pass and the topic tests fail,
 * the tracker is wrong; if these fail, Jetty changed and {@link JettyInternals} must follow.
 */
public class JettyInternalsTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /** What {@link JettyInternals} reads when a request ends. */
    private record End(boolean http1, boolean unparsed, boolean generated, int status, boolean writeFailed, boolean readPending, boolean takenOver, boolean outputShut, String path)
    {
    }

    private final BlockingQueue<End> ends = new LinkedBlockingQueue<>();
    private Server server;
    private ServerConnector connector;

    private int start(Handler handler, boolean proxyProtocol) throws Exception
    {
        server = new Server();
        HttpConfiguration config = new HttpConfiguration();
        config.addComplianceViolationListener(JettyInternals.requestEndHook(request ->
        {
            var connection = request.getConnectionMetaData().getConnection();
            EndPoint endPoint = connection.getEndPoint();
            ends.add(new End(JettyInternals.isHttp1(connection), JettyInternals.holdsUnparsedBytes(connection), JettyInternals.responseGenerated(connection),
                JettyInternals.responseStatus(request), JettyInternals.writeFailed(endPoint) || JettyInternals.writeFailed(RootEndPoint.of(endPoint)),
                JettyInternals.readPending(connection), JettyInternals.takenOver(request), JettyInternals.outputShutAfterResponse(connection), Request.getPathInContext(request)));
        }));
        HttpConnectionFactory http = new HttpConnectionFactory(config);
        connector = proxyProtocol ? new ServerConnector(server, new ProxyConnectionFactory(http.getProtocol()), http) : new ServerConnector(server, http);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(handler);
        server.start();
        return connector.getLocalPort();
    }

    @AfterEach
    public void stop() throws Exception
    {
        if (server != null)
            server.stop();
    }

    private End nextEnd() throws InterruptedException
    {
        End end = ends.poll(10, TimeUnit.SECONDS);
        assertNotNull(end, "Jetty changed: ComplianceViolation.Listener.onRequestEnd is no longer called at the end of an HTTP/1 request (JettyInternals.requestEndHook)");
        return end;
    }

    private static Handler hello()
    {
        return new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                Content.Sink.write(response, true, "hello", callback);
                return true;
            }
        };
    }

    @Test
    public void anHttp1ConnectionWhoseSocketWasTakenReadsButNeverHandles() throws Exception
    {
        java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
        int port = start(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                handled.incrementAndGet();
                Content.Sink.write(response, true, "hello", callback);
                return true;
            }
        }, false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, GET);
            assertEquals("hello", Raw.read(socket.getInputStream()).text());
            nextEnd();
            EndPoint endPoint = connector.getConnectedEndPoints().iterator().next();
            // Idle: the connection asked to read its next request (it does so once its response completed).
            dev.connstate.Wait.until("the connection to wait for its next request", endPoint::isFillInterested);
            org.eclipse.jetty.io.Connection http1 = endPoint.getConnection();
            long bytesIn = http1.getBytesIn();
            org.eclipse.jetty.io.Connection standIn = new org.eclipse.jetty.io.AbstractConnection(endPoint, Runnable::run)
            {
                @Override
                public void onFillable()
                {
                }
            };
            JettyInternals.takeSocket(http1, standIn);
            Raw.write(socket, GET);
            dev.connstate.Wait.until("the HTTP/1 connection to read the next request", () -> http1.getBytesIn() > bytesIn);
            assertEquals(bytesIn + GET.length(), http1.getBytesIn(), "Jetty changed: an HTTP/1 connection whose socket was taken no longer reads its pending bytes (JettyInternals.takeSocket)");
            assertSame(standIn, endPoint.getConnection());
            // Nothing answers, nothing is handled: the connection dropped the request it parsed.
            socket.setSoTimeout(500);
            assertThrows(java.net.SocketTimeoutException.class, () -> socket.getInputStream().read(), "Jetty changed: an HTTP/1 connection whose socket was taken answered a request (JettyInternals.takeSocket)");
            assertEquals(1, handled.get(), "Jetty changed: an HTTP/1 connection whose socket was taken handled a request (JettyInternals.takeSocket)");
            assertNull(ends.poll(), "no request ended");
            assertTrue(JettyInternals.restartIdleClock(endPoint), "Jetty changed: a socket's end point is no longer an IdleTimeout (JettyInternals.restartIdleClock)");
            long idleFor = ((org.eclipse.jetty.io.IdleTimeout)endPoint).getIdleFor();
            assertTrue(idleFor < 1000, "Jetty changed: notIdle() no longer restarts the idle clock (JettyInternals.restartIdleClock): idle for " + idleFor + " ms");
        }
    }

    @Test
    public void requestEndHookOncePerRequestBeforeTheNextOneIsParsed() throws Exception
    {
        int port = start(hello(), false);
        try (Socket socket = Raw.connect(port))
        {
            // Two pipelined requests in one write: both are read at once.
            Raw.write(socket, "GET /1 HTTP/1.1\r\nHost: localhost\r\n\r\nGET /2 HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertEquals("hello", Raw.read(socket.getInputStream()).text());
            assertEquals("hello", Raw.read(socket.getInputStream()).text());
        }
        End first = nextEnd();
        End second = nextEnd();
        assertEquals(List.of("/1", "/2"), List.of(first.path(), second.path()), "the hook is called once per request, in order");
        assertTrue(first.http1() && second.http1(), "Jetty changed: its HTTP/1 server connection is no longer org.eclipse.jetty.server.internal.HttpConnection (JettyInternals.isHttp1)");
        assertTrue(first.generated() && second.generated(), "Jetty changed: the generator is not at its end when a whole response was written (JettyInternals.responseGenerated)");
        assertTrue(first.unparsed(), "Jetty changed: at the end of a request, a pipelined request read with it is no longer seen as unparsed bytes (JettyInternals.holdsUnparsedBytes)");
        assertFalse(second.unparsed(), "Jetty changed: isRequestBufferEmpty() is false with nothing left to parse (JettyInternals.holdsUnparsedBytes)");
        assertEquals(200, first.status(), "Jetty changed: the response status is no longer readable through HttpChannelState at the request-end hook (JettyInternals.responseStatus)");
        assertFalse(first.writeFailed() || first.readPending() || first.takenOver(), "a plain request reads as neither failed, pending nor taken over: " + first);
        assertNull(ends.poll(), "one call per request");
    }

    @Test
    public void aResponseCommittedBeforeTheConnectorShutDownEndsWithTheOutputShut() throws Exception
    {
        // The rest of the committed response, written by the test once the connector shut down.
        CompletableFuture<Runnable> rest = new CompletableFuture<>();
        int port = start(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                if (!Request.getPathInContext(request).equals("/committed"))
                {
                    Content.Sink.write(response, true, "hello", callback);
                    return true;
                }
                response.write(false, BufferUtil.toBuffer("hel"), Callback.from(
                    () -> rest.complete(() -> response.write(true, BufferUtil.toBuffer("lo"), callback)), callback::failed));
                return true;
            }
        }, false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, GET);
            assertEquals("hello", Raw.read(socket.getInputStream()).text());
            assertFalse(nextEnd().outputShut(), "a persistent response leaves the output open");
            Raw.write(socket, "GET /committed HTTP/1.1\r\nHost: localhost\r\n\r\n");
            Runnable writeTheRest = rest.get(10, TimeUnit.SECONDS);
            connector.shutdown();
            writeTheRest.run();
            Raw.Response response = Raw.read(socket.getInputStream());
            assertEquals("hello", response.text());
            assertNull(response.header("Connection"), "committed before the shutdown: no Connection: close");
        }
        assertTrue(nextEnd().outputShut(), "Jetty changed: after a response committed before its connector shut down, HttpConnection no longer shuts the output before the request ends (JettyInternals.outputShutAfterResponse)");
    }

    @Test
    public void aSocketsEndPointCarriesItsChannelWhoseUnreadBytesCanBeCounted() throws Exception
    {
        int port = start(hello(), false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, GET);
            assertEquals(200, Raw.read(socket.getInputStream()).status());
            EndPoint endPoint = connector.getConnectedEndPoints().iterator().next();
            assertTrue(endPoint.getTransport() instanceof SocketChannel,
                "A plain socket's end point has its SocketChannel as its transport, not " + endPoint.getTransport());
            assertFalse(JettyInternals.bytesUnread(endPoint), "nothing waits unread on an idle connection");
        }
    }

    @Test
    public void behindTheProxyProtocolTheConnectionIsStillJettysHttp1() throws Exception
    {
        int port = start(hello(), true);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "PROXY TCP4 192.0.2.7 192.0.2.1 1234 443\r\n" + GET);
            assertEquals("hello", Raw.read(socket.getInputStream()).text());
        }
        assertTrue(nextEnd().http1(), "Jetty changed: behind the PROXY protocol, HTTP/1 is no longer served by org.eclipse.jetty.server.internal.HttpConnection (JettyInternals.isHttp1)");
    }

    @Test
    public void statusOfAResponseAfterWhichTheConnectionCloses() throws Exception
    {
        int port = start(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                Response.writeError(request, response, callback, HttpStatus.SERVICE_UNAVAILABLE_503);
                return true;
            }
        }, false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "GET / HTTP/1.0\r\n\r\n");
            assertEquals(503, Raw.read(socket.getInputStream()).status());
        }
        assertEquals(503, nextEnd().status(), "Jetty changed: the response status is no longer readable through HttpChannelState at the request-end hook (JettyInternals.responseStatus)");
    }

    @Test
    public void aResetDuringTheLastWriteLeavesTheWriteFlusherFailed() throws Exception
    {
        int port = start(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.write(true, ByteBuffer.allocate(32 * 1024 * 1024), callback);
                return true;
            }
        }, false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, GET);
            socket.getInputStream().readNBytes(100_000);
            Raw.reset(socket);
        }
        assertTrue(nextEnd().writeFailed(), "Jetty changed: a write failed by the client's reset no longer leaves the end point's WriteFlusher failed at the request-end hook (JettyInternals.writeFailed)");
    }

    @Test
    public void aResponseCutShortIsNotGeneratedToItsEnd() throws Exception
    {
        int port = start(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 10);
                response.write(false, BufferUtil.toBuffer("half"), Callback.from(
                    () -> callback.failed(new IllegalStateException("failed after commit (on purpose, by the test)")), callback::failed));
                return true;
            }
        }, false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, GET);
            Raw.readToEnd(socket);
        }
        assertFalse(nextEnd().generated(), "Jetty changed: a response failed after its commit reads as generated to its end (JettyInternals.responseGenerated)");
    }

    @Test
    public void contentDemandedAndNotReadLeavesAReadPending() throws Exception
    {
        int port = start(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                request.demand(() -> {});
                Content.Sink.write(response, true, "done", callback);
                return true;
            }
        }, false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n");
            Raw.readToEnd(socket);
        }
        assertTrue(nextEnd().readPending(), "Jetty changed: content demanded and never read no longer leaves the HTTP/1 connection fill-interested at the request-end hook (JettyInternals.readPending)");
    }

    @Test
    public void aTakeoverIsSeenThroughTheUpgradeAttribute() throws Exception
    {
        int port = start(HijackTest.echoUpgrade(), false);
        try (Socket socket = Raw.connect(port))
        {
            Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n");
            assertEquals(101, Raw.readHead(socket.getInputStream()).status());
        }
        assertTrue(nextEnd().takenOver(), "Jetty changed: HttpStream.UPGRADE_CONNECTION_ATTRIBUTE no longer holds the taking-over connection when the request ends (JettyInternals.takenOver)");
    }

    /**
     * Whether Jetty's answer to a head was to a malformed one or to one the client's close cut
     * short: read as each connection closes, over connections whose FIN comes with the last bytes
     * or after them (which decides whether Jetty answers the cut head with its own 400).
     */
    @Test
    public void aHeadCutByTheClientsCloseIsToldFromAMalformedOne() throws Exception
    {
        BlockingQueue<Boolean> cut = new LinkedBlockingQueue<>();
        int port = start(hello(), false);
        connector.addBean(new org.eclipse.jetty.io.Connection.Listener()
        {
            @Override
            public void onClosed(org.eclipse.jetty.io.Connection connection)
            {
                cut.add(JettyInternals.headCutByEndOfInput(connection));
            }
        });
        for (int i = 0; i < 20; i++)
        {
            try (Socket socket = Raw.connect(port))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHo");
                socket.shutdownOutput();
                socket.getInputStream().readAllBytes();
            }
            assertEquals(Boolean.TRUE, cut.poll(10, TimeUnit.SECONDS),
                "Jetty changed: a head cut short by the client's FIN no longer leaves HttpParser at EOF and CLOSED (JettyInternals.headCutByEndOfInput)");
            try (Socket socket = Raw.connect(port))
            {
                Raw.write(socket, "GARBAGE\r\n\r\n");
                assertEquals(400, Raw.read(socket.getInputStream()).status());
            }
            assertEquals(Boolean.FALSE, cut.poll(10, TimeUnit.SECONDS),
                "Jetty changed: a malformed head now leaves HttpParser at EOF and CLOSED, as a head cut by the client's FIN (JettyInternals.headCutByEndOfInput)");
        }
    }
}
