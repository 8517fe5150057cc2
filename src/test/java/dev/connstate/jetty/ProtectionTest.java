package dev.connstate.jetty;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.connstate.CapturedLog;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.RawH2;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Protection by state: the request header timeout ({@link RequestHeaderTimeout}) and the caps
 * per client ({@link ClientLimits}), over real sockets: exact sequences, close reasons, when the
 * server closed, and what the clients and the handler saw.
 */
public class ProtectionTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    private static final long HEADER_TIMEOUT = 500;

    /** Answers "hello" after reading the whole request body; counts its calls. */
    private static final class Reading extends Handler.Abstract
    {
        private final AtomicInteger calls = new AtomicInteger();

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception
        {
            calls.incrementAndGet();
            String body = Content.Source.asString(request, StandardCharsets.US_ASCII);
            Content.Sink.write(response, true, body.isEmpty() ? "hello" : "got " + body, callback);
            return true;
        }
    }

    private static TrackedServer server(Reading handler, ServerConnectorFactory connector) throws Exception
    {
        TrackedServer s = new TrackedServer().handler(handler);
        connector.add(s);
        return s;
    }

    private interface ServerConnectorFactory
    {
        void add(TrackedServer s) throws Exception;
    }

    private static ConnStateEvent closed(TrackedServer s, int clientPort)
    {
        List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
        ConnStateEvent last = events.get(events.size() - 1);
        assertEquals(ConnState.CLOSED, last.state(), events::toString);
        return last;
    }

    /**
     * Sends {@code line} every {@code everyMillis} until the server closes (at most {@code boundMillis}).
     *
     * @return milliseconds from {@code sinceNanos} to the server's close
     */
    private static long trickleUntilClosed(Socket socket, String line, long everyMillis, long boundMillis, long sinceNanos) throws Exception
    {
        InputStream in = socket.getInputStream();
        socket.setSoTimeout((int)everyMillis);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(boundMillis);
        while (System.nanoTime() - deadline < 0)
        {
            try
            {
                Raw.write(socket, line);
            }
            catch (java.io.IOException closed)
            {
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
            }
            try
            {
                // The pace of the trickle, and the bounded wait for the server's close.
                int read = in.read();
                if (read < 0)
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
                // Jetty may answer (408, 431) before it closes: read on to the end.
                in.readAllBytes();
                return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sinceNanos);
            }
            catch (SocketTimeoutException stillOpen)
            {
                // Next line.
            }
        }
        throw new AssertionError("still open after " + boundMillis + " ms of trickling");
    }

    private static void assertClosedAround(long closedAfterMillis, long deadlineMillis)
    {
        // Not before the deadline; at most a scan (a twentieth) and the client's pace after it.
        assertTrue(closedAfterMillis >= deadlineMillis - 20 && closedAfterMillis < deadlineMillis * 2, "closed after " + closedAfterMillis + " ms, deadline " + deadlineMillis + " ms");
    }

    /** A server with the header timeout on. */
    private static TrackedServer headerTimeoutServer(Reading handler, ServerConnectorFactory connector) throws Exception
    {
        TrackedServer s = server(handler, connector);
        s.tracker.getRequestHeaderTimeout().setTimeoutMillis(HEADER_TIMEOUT);
        return s.start();
    }

    /**
     * The server closed {@code socket} at the header timeout's deadline from {@code since} (having
     * sent nothing, if {@code nothingSent}), and reported {@code states}, reason request_header_timeout.
     */
    private static void assertClosedAtTheDeadline(TrackedServer s, Socket socket, long since, boolean nothingSent, String... states) throws Exception
    {
        byte[] received = socket.getInputStream().readAllBytes();
        if (nothingSent)
            assertEquals(0, received.length, "the server sent something before it closed");
        assertClosedAround(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since), HEADER_TIMEOUT);
        assertEquals(seq(states), s.recorder.awaitEnd(socket.getLocalPort()));
        assertEquals(CloseReason.REQUEST_HEADER_TIMEOUT, closed(s, socket.getLocalPort()).reason());
    }

    @Test
    public void aSilentClientIsClosedAtTheDeadline() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = headerTimeoutServer(handler, TrackedServer::addConnector))
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                assertClosedAtTheDeadline(s, socket, System.nanoTime(), true, "new", "closed");
            }
            assertEquals(0, handler.calls.get());
        }
    }

    @Test
    public void aHeadTrickledPastTheDeadlineIsClosed() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = headerTimeoutServer(handler, TrackedServer::addConnector))
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                long since = System.nanoTime();
                Raw.write(socket, "GET / HTTP/1.1\r\n");
                // A header line every 50 ms: each resets Jetty's idle timeout, not this deadline.
                assertClosedAround(trickleUntilClosed(socket, "X-Slow: 1\r\n", 50, 10_000, since), HEADER_TIMEOUT);
                assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
                assertEquals(CloseReason.REQUEST_HEADER_TIMEOUT, closed(s, socket.getLocalPort()).reason());
            }
            assertEquals(0, handler.calls.get());
        }
    }

    @Test
    public void aTlsHandshakeNeverFinishedIsClosedAtTheDeadline() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = headerTimeoutServer(handler, TrackedServer::addTlsConnector))
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                long since = System.nanoTime();
                // The first bytes of a ClientHello's record header, and nothing more.
                socket.getOutputStream().write(new byte[]{0x16, 0x03, 0x01});
                socket.getOutputStream().flush();
                assertClosedAtTheDeadline(s, socket, since, true, "new", "closed");
            }
        }
    }

    /** A later head is timed from its first byte; the idle wait before it is not. */
    @Test
    public void aSlowSecondHeadOnAKeptAliveConnection() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = headerTimeoutServer(handler, TrackedServer::addConnector))
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                Wait.until("the connection to be idle longer than the header timeout", () -> s.tracker.getOldestIdleMillis() >= 2 * HEADER_TIMEOUT);
                long since = System.nanoTime();
                Raw.write(socket, "GET / HTTP/1.1\r\n");
                assertClosedAround(trickleUntilClosed(socket, "X-Slow: 1\r\n", 50, 10_000, since), HEADER_TIMEOUT);
                assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
                assertEquals(CloseReason.REQUEST_HEADER_TIMEOUT, closed(s, socket.getLocalPort()).reason());
            }
            assertEquals(1, handler.calls.get());
        }
    }

    /** A body is not timed: its request reached the handler. */
    @Test
    public void aSlowBodyIsNotCut() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = server(handler, TrackedServer::addConnector))
        {
            s.tracker.getRequestHeaderTimeout().setTimeoutMillis(200);
            s.start();
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 8\r\n\r\n");
                Wait.until("the request to be active", () -> s.tracker.getActiveConnections() == 1);
                // Two bytes at a time, each after the header timeout has passed again.
                for (int i = 0; i < 4; i++)
                {
                    long at = s.tracker.getOldestActiveMillis();
                    Wait.until("the request to be active a header timeout longer", () -> s.tracker.getOldestActiveMillis() >= at + 200);
                    Raw.write(socket, "ab");
                }
                Raw.Response response = Raw.read(socket.getInputStream());
                assertEquals(200, response.status());
                assertEquals("got abababab", response.text());
            }
            s.recorder.awaitAllEnded(1);
            assertEquals(1, handler.calls.get());
        }
    }

    @Test
    public void h2cWithoutHeadersIsClosedAtTheDeadline() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = headerTimeoutServer(handler, t -> t.addConnector(new HttpConnectionFactory(t.httpConfig), new HTTP2CServerConnectionFactory(t.httpConfig))))
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                long since = System.nanoTime();
                // The preface and SETTINGS, then no HEADERS; the server's SETTINGS come back.
                socket.getOutputStream().write(RawH2.PREFACE_AND_SETTINGS);
                socket.getOutputStream().flush();
                assertClosedAtTheDeadline(s, socket, since, false, "new", "closed");
            }
        }
    }

    @Test
    public void aClientOverItsCapIsRefusedBeforeAnyRequest() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = server(handler, TrackedServer::addConnector))
        {
            s.tracker.getClientLimits().setMaxConnections(2);
            s.start();
            List<Socket> held = new ArrayList<>();
            try
            {
                for (int i = 0; i < 2; i++)
                {
                    Socket socket = Raw.connect(s.port());
                    held.add(socket);
                    Raw.write(socket, GET);
                    assertEquals("hello", Raw.read(socket.getInputStream()).text());
                }
                try (Socket third = Raw.connect(s.port()))
                {
                    Raw.write(third, GET);
                    assertEquals(-1, third.getInputStream().read(), "refused, no response");
                    assertEquals(seq("new", "closed"), s.recorder.awaitEnd(third.getLocalPort()));
                    assertEquals(CloseReason.CLIENT_LIMIT, closed(s, third.getLocalPort()).reason());
                }
                // Another client is not capped by this one's connections.
                try (Socket other = new Socket())
                {
                    other.bind(new InetSocketAddress("127.0.0.2", 0));
                    other.connect(new InetSocketAddress("127.0.0.1", s.port()), 10_000);
                    other.setSoTimeout(10_000);
                    Raw.write(other, GET);
                    assertEquals("hello", Raw.read(other.getInputStream()).text());
                }
                assertEquals(1, s.tracker.getRejectedConnections());
                assertEquals(2, handler.calls.get() - 1);
            }
            finally
            {
                for (Socket socket : held)
                    socket.close();
            }
            s.recorder.awaitAllEnded(4);
            Wait.until("the table of clients to be empty", () -> s.tracker.getClientLimits().getClients() == 0);
        }
    }

    /** Refusals are logged: one WARN line naming the client and what it lost, then nothing more for a minute. */
    @Test
    public void refusalsAreLoggedOnceAMinuteByClient() throws Exception
    {
        List<String> warnings;
        String log;
        try (CapturedLog captured = new CapturedLog(ClientLimits.class); TrackedServer s = server(new Reading(), TrackedServer::addConnector))
        {
            s.tracker.getClientLimits().setMaxNew(1);
            s.start();
            try (Socket silent = Raw.connect(s.port()))
            {
                Wait.until("the silent connection to be new", () -> s.tracker.getNewConnections() == 1);
                for (int i = 0; i < 2; i++)
                {
                    try (Socket refused = Raw.connect(s.port()))
                    {
                        assertEquals(-1, refused.getInputStream().read());
                        s.recorder.awaitEnd(refused.getLocalPort());
                    }
                }
            }
            s.recorder.awaitAllEnded(3);
            assertEquals(2, s.tracker.getRejectedConnections());
            warnings = captured.lines("Refused connections of clients at their cap");
            log = captured.all();
        }
        assertEquals(1, warnings.size(), log);
        assertTrue(warnings.get(0).contains(":WARN :") && warnings.get(0).contains("(max unlimited open, 1 new per client; jetty.connstate.client.*): 127.0.0.1 lost 1"), warnings.get(0));
    }

    @Test
    public void newConnectionsAreCappedApartFromBusyOnes() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = server(handler, TrackedServer::addConnector))
        {
            s.tracker.getClientLimits().setMaxNew(1);
            s.start();
            try (Socket silent = Raw.connect(s.port()))
            {
                Wait.until("the silent connection to be new", () -> s.tracker.getNewConnections() == 1);
                try (Socket second = Raw.connect(s.port()))
                {
                    assertEquals(-1, second.getInputStream().read(), "a second new connection is refused");
                    assertEquals(seq("new", "closed"), s.recorder.awaitEnd(second.getLocalPort()));
                    assertEquals(CloseReason.CLIENT_LIMIT, closed(s, second.getLocalPort()).reason());
                }
                // Once the first sent its request it is no longer new: another may connect.
                Raw.write(silent, GET);
                assertEquals("hello", Raw.read(silent.getInputStream()).text());
                try (Socket third = Raw.connect(s.port()))
                {
                    Raw.write(third, GET);
                    assertEquals("hello", Raw.read(third.getInputStream()).text());
                }
            }
            s.recorder.awaitAllEnded(3);
            assertEquals(1, s.tracker.getRejectedConnections());
            Wait.until("the table of clients to be empty", () -> s.tracker.getClientLimits().getClients() == 0);
        }
    }

    /** Behind a proxy the client is the PROXY header's; the proxy itself is exempt. */
    @Test
    public void proxyProtocolClientsAreCappedByTheirOwnAddress() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = server(handler, t ->
        {
            HttpConnectionFactory http = new HttpConnectionFactory(t.httpConfig);
            t.addConnector(new ProxyConnectionFactory(http.getProtocol()), http);
        }))
        {
            s.tracker.getClientLimits().setMaxConnections(1);
            s.tracker.getClientLimits().setExempt("127.0.0.0/8");
            s.start();
            try (Socket first = Raw.connect(s.port()); Socket second = Raw.connect(s.port()); Socket other = Raw.connect(s.port()))
            {
                Raw.write(first, "PROXY TCP4 192.0.2.7 192.0.2.1 40001 80\r\n" + GET);
                assertEquals("hello", Raw.read(first.getInputStream()).text());
                Raw.write(second, "PROXY TCP4 192.0.2.7 192.0.2.1 40002 80\r\n" + GET);
                assertEquals(-1, second.getInputStream().read(), "the same client's second connection is refused");
                Raw.write(other, "PROXY TCP4 192.0.2.8 192.0.2.1 40003 80\r\n" + GET);
                assertEquals("hello", Raw.read(other.getInputStream()).text());
                assertEquals(seq("new", "closed"), s.recorder.awaitEnd(second.getLocalPort()));
                ConnStateEvent refused = closed(s, second.getLocalPort());
                assertEquals(CloseReason.CLIENT_LIMIT, refused.reason());
                assertEquals("192.0.2.7:40002", refused.remoteAddress());
            }
            s.recorder.awaitAllEnded(3);
            assertEquals(1, s.tracker.getRejectedConnections());
            assertEquals(2, handler.calls.get());
            Wait.until("the table of clients to be empty", () -> s.tracker.getClientLimits().getClients() == 0);
        }
    }

    @Test
    public void exemptClientsAreNotCapped() throws Exception
    {
        Reading handler = new Reading();
        try (TrackedServer s = server(handler, TrackedServer::addConnector))
        {
            s.tracker.getClientLimits().setMaxConnections(1);
            s.tracker.getClientLimits().setMaxNew(1);
            s.tracker.getClientLimits().setExempt("127.0.0.1, 10.0.0.0/8");
            s.start();
            List<Socket> sockets = new ArrayList<>();
            try
            {
                for (int i = 0; i < 3; i++)
                {
                    Socket socket = Raw.connect(s.port());
                    sockets.add(socket);
                    Raw.write(socket, GET);
                    assertEquals("hello", Raw.read(socket.getInputStream()).text());
                }
                assertEquals(0, s.tracker.getClientLimits().getClients(), "exempt clients are not in the table");
            }
            finally
            {
                for (Socket socket : sockets)
                    socket.close();
            }
            s.recorder.awaitAllEnded(3);
            assertEquals(0, s.tracker.getRejectedConnections());
        }
    }
}
