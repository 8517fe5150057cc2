package dev.connstate.jetty;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.connstate.ConnState;
import dev.connstate.RawClient;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpUpgradeHandler;
import jakarta.servlet.http.WebConnection;
import jakarta.websocket.OnMessage;
import jakarta.websocket.server.ServerEndpoint;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ConnectHandler;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketClose;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketMessage;
import org.eclipse.jetty.websocket.api.annotations.WebSocket;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Connections the application takes over: {@code new, active, hijacked}, nothing after, and the
 * tracker keeps the socket until it closes, then forgets it (checked by {@link TrackedServer#close()}).
 */
public class HijackTest
{
    /** Echoes text messages (jetty WebSocket API, server side). */
    @WebSocket
    public static class JettyEcho
    {
        @OnWebSocketMessage
        public void onText(Session session, String text)
        {
            session.sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }
    }

    /** Echoes text messages (Jakarta WebSocket API). */
    @ServerEndpoint("/jws")
    public static class JakartaEcho
    {
        @OnMessage
        public String onText(String text)
        {
            return text;
        }
    }

    /** Client side: collects messages, counts the close. */
    @WebSocket
    public static class ClientSocket
    {
        final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
        final CountDownLatch closed = new CountDownLatch(1);

        @OnWebSocketMessage
        public void onText(String text)
        {
            messages.add(text);
        }

        @OnWebSocketClose
        public void onClose(int status, String reason)
        {
            closed.countDown();
        }
    }

    /** Echoes bytes on a socket taken over from HTTP/1; closes when the client does. */
    static class EchoConnection extends AbstractConnection
    {
        EchoConnection(EndPoint endPoint, Executor executor)
        {
            super(endPoint, executor);
        }

        @Override
        public void onOpen()
        {
            super.onOpen();
            fillInterested();
        }

        @Override
        public void onFillable()
        {
            ByteBuffer buffer = BufferUtil.allocate(1024);
            try
            {
                while (true)
                {
                    int filled = getEndPoint().fill(buffer);
                    if (filled > 0)
                    {
                        // Small test payloads fit the socket buffer: one flush writes them.
                        getEndPoint().flush(buffer);
                        BufferUtil.clear(buffer);
                    }
                    else if (filled == 0)
                    {
                        fillInterested();
                        return;
                    }
                    else
                    {
                        getEndPoint().close();
                        return;
                    }
                }
            }
            catch (IOException x)
            {
                getEndPoint().close(x);
            }
        }
    }

    /**
     * Servlet upgrade: greets, then closes its output when its input ends. (With Jetty 12.1.12 the
     * upgraded input of a GET reports the end of the request's own, empty body first, so it does
     * not echo: the connection states are what this test is about.)
     */
    public static class GreetingUpgrade implements HttpUpgradeHandler
    {
        @Override
        public void init(WebConnection connection)
        {
            try
            {
                ServletInputStream in = connection.getInputStream();
                ServletOutputStream out = connection.getOutputStream();
                out.write("upgraded".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                in.setReadListener(new ReadListener()
                {
                    @Override
                    public void onDataAvailable() throws IOException
                    {
                        byte[] buffer = new byte[1024];
                        while (in.isReady() && in.read(buffer) >= 0)
                        {
                            // Discarded.
                        }
                    }

                    @Override
                    public void onAllDataRead() throws IOException
                    {
                        out.close();
                    }

                    @Override
                    public void onError(Throwable failure)
                    {
                        // The client went away.
                    }
                });
            }
            catch (IOException x)
            {
                throw new UncheckedIOException(x);
            }
        }

        @Override
        public void destroy()
        {
        }
    }

    public static class UpgradingServlet extends HttpServlet
    {
        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException, jakarta.servlet.ServletException
        {
            if ("echo".equalsIgnoreCase(request.getHeader("Upgrade")))
                request.upgrade(GreetingUpgrade.class);
            else
                response.getWriter().print("plain");
        }
    }

    private static long onlyConnection(TrackedServer s)
    {
        Wait.until("one connection", () -> s.recorder.connectionCount() == 1);
        Map<Long, List<ConnState>> all = s.recorder.awaitAllEnded(1);
        return all.keySet().iterator().next();
    }

    /** Opens a WebSocket, echoes a message, checks the sequence while it is open, then closes it. */
    private static void webSocketRoundTrip(TrackedServer s, String path) throws Exception
    {
        WebSocketClient client = new WebSocketClient();
        client.start();
        try
        {
            ClientSocket socket = new ClientSocket();
            Session session = client.connect(socket, URI.create("ws://127.0.0.1:" + s.port() + path)).get(10, TimeUnit.SECONDS);
            session.sendText("ping", org.eclipse.jetty.websocket.api.Callback.NOOP);
            assertEquals("ping", socket.messages.poll(10, TimeUnit.SECONDS));
            long id = onlyConnection(s);
            assertEquals(seq("new", "active", "hijacked"), s.recorder.sequence(id));
            // Hijacked but open: still tracked (and counted in no state gauge).
            assertEquals(1, s.tracker.getTrackedConnections());
            assertEquals(0, s.tracker.getActiveConnections());
            session.close();
            assertTrue(socket.closed.await(10, TimeUnit.SECONDS));
        }
        finally
        {
            client.stop();
        }
        Wait.until("the tracker to forget the closed socket", () -> s.tracker.getTrackedConnections() == 0);
        assertEquals(seq("new", "active", "hijacked"), s.recorder.sequence(onlyConnection(s)));
    }

    @Test
    public void jettyWebSocket() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            s.handler(WebSocketUpgradeHandler.from(s.server, container -> container.addMapping("/ws", (rq, rs, cb) -> new JettyEcho()))).start();
            webSocketRoundTrip(s, "/ws");
        }
    }

    @Test
    public void jakartaWebSocket() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            ServletContextHandler context = new ServletContextHandler("/");
            JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) -> container.addEndpoint(JakartaEcho.class));
            s.handler(context).start();
            webSocketRoundTrip(s, "/jws");
        }
    }

    @Test
    public void servletUpgrade() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            ServletContextHandler context = new ServletContextHandler("/");
            context.addServlet(UpgradingServlet.class, "/up");
            s.handler(context).start();
            try (RawClient c = s.connect())
            {
                // A request first: the upgrade comes on a connection that was idle.
                c.send("GET /up HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals("plain", c.read().text());
                c.send("GET /up HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
                c.expect(101);
                assertEquals("upgraded", c.readText(8));
                assertEquals(seq("new", "active", "idle", "active", "hijacked"), c.sequence());
                assertEquals(1, s.tracker.getTrackedConnections());
                c.close();
                Wait.until("the tracker to forget the closed socket", () -> s.tracker.getTrackedConnections() == 0);
                assertEquals(seq("new", "active", "idle", "active", "hijacked"), c.sequence());
            }
        }
    }

    @Test
    public void connectTunnel() throws Exception
    {
        Server target = TrackedServer.startHelloServer();
        try (TrackedServer s = new TrackedServer().handler(new ConnectHandler(new TrackedServer.Hello())).start())
        {
            String authority = "127.0.0.1:" + TrackedServer.portOf(target);
            try (RawClient c = s.connect())
            {
                c.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
                assertEquals(200, c.readHead().status());
                // Through the tunnel, to the second server.
                c.send("GET / HTTP/1.1\r\nHost: " + authority + "\r\n\r\n");
                assertEquals("hello", c.read().text());
                assertEquals(seq("new", "active", "hijacked"), c.sequence());
                assertEquals(1, s.tracker.getTrackedConnections());
                c.close();
                // The tunnel's connection carries no listener: only the socket's close tells.
                Wait.until("the tracker to forget the closed socket", () -> s.tracker.getTrackedConnections() == 0);
                assertEquals(seq("new", "active", "hijacked"), c.sequence());
            }
        }
        finally
        {
            target.stop();
        }
    }

    /**
     * Answers every request with a 101 to an echo protocol, handing the socket to an
     * {@link EchoConnection} through Jetty's upgrade attribute: a raw takeover, without WebSocket.
     */
    static Handler echoUpgrade()
    {
        return new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
                request.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, new EchoConnection(endPoint, request.getComponents().getExecutor()));
                response.setStatus(HttpStatus.SWITCHING_PROTOCOLS_101);
                response.getHeaders().put(HttpHeader.UPGRADE, "echo");
                response.getHeaders().put(HttpHeader.CONNECTION, "Upgrade");
                callback.succeeded();
                return true;
            }
        };
    }

    @Test
    public void rawUpgradeThroughTheHttpStreamAttribute() throws Exception
    {
        Handler upgrading = echoUpgrade();
        try (TrackedServer s = new TrackedServer().handler(upgrading).start())
        {
            try (RawClient c = s.connect())
            {
                c.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
                c.expect(101);
                c.send("xyz");
                assertEquals("xyz", c.readText(3));
                assertEquals(seq("new", "active", "hijacked"), c.sequence());
                c.close();
                Wait.until("the tracker to forget the closed socket", () -> s.tracker.getTrackedConnections() == 0);
                assertEquals(seq("new", "active", "hijacked"), c.sequence());
            }
        }
    }
}
