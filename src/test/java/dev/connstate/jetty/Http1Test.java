package dev.connstate.jetty;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.Recorder;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http.ComplianceViolation;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/1.0 and HTTP/1.1 over plain sockets: keep-alive, pipelining, closes from either side,
 * uploads, idle timeouts, aborts, failing handlers, and bytes that never make a whole request.
 */
public class Http1Test
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /** Reads the whole request body, answers with its length. Read failures fail the request. */
    static class CountBody extends Handler.Abstract
    {
        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            long count;
            try (InputStream in = Content.Source.asInputStream(request))
            {
                count = in.transferTo(OutputStream.nullOutputStream());
            }
            catch (Throwable x)
            {
                callback.failed(x);
                return true;
            }
            Content.Sink.write(response, true, Long.toString(count), callback);
            return true;
        }
    }

    private static TrackedServer withIdleTimeout(long millis)
    {
        return new TrackedServer().configure(s -> s.addConnector().setIdleTimeout(millis));
    }

    @Test
    public void keepAliveGetsThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                for (int i = 0; i < 3; i++)
                {
                    Raw.write(socket, GET);
                    assertEquals("hello", Raw.read(socket.getInputStream()).text());
                }
            }
            assertEquals(seq("new", "active", "idle", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
            long id = s.recorder.idOfClientPort(clientPort);
            List<ConnStateEvent> events = s.recorder.events(id);
            // HTTP/1 tells its version with the first request line.
            assertEquals("unknown", events.get(0).protocol());
            assertEquals("http/1.1", events.get(1).protocol());
            assertEquals(false, events.get(1).secure());
            assertEquals(3, events.get(events.size() - 1).requests());
        }
    }

    @Test
    public void requestEndsAreHeardThroughTheHttpConfigurationOnly() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            // Jetty warns at start about compliance listeners that are beans of a connector or of the server.
            assertEquals(List.of(), s.server.getBeans(ComplianceViolation.Listener.class));
            for (Connector connector : s.server.getConnectors())
                assertEquals(List.of(), ((ServerConnector)connector).getBeans(ComplianceViolation.Listener.class));
            assertEquals(1, s.httpConfig.getComplianceViolationListeners().size());
        }
    }

    @Test
    public void activeBeginsWithTheFirstByteOfTheRequest() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                s.recorder.idOfClientPort(clientPort);
                Raw.write(socket, "GET / HTTP/1.1\r\n");
                // A client that is slow to send its head (a stimulus, not a wait for the server).
                Thread.sleep(500);
                Raw.write(socket, "Host: localhost\r\n\r\n");
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
            }
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
            List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
            // The slow head counts as active time, not as time spent new.
            assertTrue(events.get(2).previousMillis() >= 250, "active for " + events.get(2).previousMillis() + " ms");
            assertTrue(events.get(1).previousMillis() < 250, "new for " + events.get(1).previousMillis() + " ms");
        }
    }

    @Test
    public void http10WithoutKeepAlive() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.0\r\n\r\n");
                // Jetty answers with its own version and shuts its output: no keep-alive was asked for.
                String response = Raw.readToEnd(socket);
                assertTrue(response.startsWith("HTTP/1.1 200") && response.endsWith("hello"), response);
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
            assertEquals("http/1.0", s.recorder.events(s.recorder.idOfClientPort(clientPort)).get(1).protocol());
        }
    }

    @Test
    public void http10KeepAlive() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                for (int i = 0; i < 2; i++)
                {
                    Raw.write(socket, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                    Raw.Response response = Raw.read(socket.getInputStream());
                    assertEquals("keep-alive", response.header("Connection"));
                    assertEquals("hello", response.text());
                }
            }
            assertEquals(seq("new", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
            assertEquals("http/1.0", s.recorder.events(s.recorder.idOfClientPort(clientPort)).get(1).protocol());
        }
    }

    @Test
    public void pipelining() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, GET + GET + GET);
                for (int i = 0; i < 3; i++)
                    assertEquals("hello", Raw.read(socket.getInputStream()).text());
            }
            assertEquals(seq("new", "active", "idle", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void connectionCloseFromClient() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                // The server shuts its output after the response; the socket closes when the client closes too.
                assertTrue(Raw.readToEnd(socket).endsWith("hello"));
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void connectionCloseFromServer() throws Exception
    {
        Handler closing = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONNECTION, "close");
                Content.Sink.write(response, true, "bye", callback);
                return true;
            }
        };
        try (TrackedServer s = new TrackedServer().handler(closing).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                // The server shuts its output after the response and waits for the client's close.
                String response = Raw.readToEnd(socket);
                assertTrue(response.endsWith("bye"), response);
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void expect100Continue() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
                // The server asks for the body only when the handler reads it.
                String interim = new String(socket.getInputStream().readNBytes(25), StandardCharsets.US_ASCII);
                assertEquals("HTTP/1.1 100 Continue\r\n\r\n", interim);
                Raw.write(socket, "hello");
                assertEquals("5", Raw.read(socket.getInputStream()).text());
                Raw.write(socket, GET);
                assertEquals("0", Raw.read(socket.getInputStream()).text());
            }
            assertEquals(seq("new", "active", "idle", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void chunkedUpload() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < 10; i++)
                    Raw.write(socket, "400\r\n" + "x".repeat(1024) + "\r\n");
                Raw.write(socket, "0\r\n\r\n");
                assertEquals("10240", Raw.read(socket.getInputStream()).text());
            }
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void largeUploadWithJettyClient() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            HttpClient client = new HttpClient();
            client.start();
            try
            {
                byte[] body = new byte[8 * 1024 * 1024];
                for (int i = 0; i < 2; i++)
                {
                    ContentResponse response = client.newRequest("127.0.0.1", s.port())
                        .method(HttpMethod.POST)
                        .body(new BytesRequestContent(body))
                        .timeout(15, TimeUnit.SECONDS)
                        .send();
                    assertEquals(Integer.toString(body.length), response.getContentAsString());
                }
            }
            finally
            {
                client.stop();
            }
            Map<Long, List<ConnState>> all = s.recorder.awaitAllEnded(1);
            assertEquals(List.of(seq("new", "active", "idle", "active", "idle", "closed")), List.copyOf(all.values()));
        }
    }

    @Test
    public void idleTimeoutAfterRequest() throws Exception
    {
        try (TrackedServer s = withIdleTimeout(400).start())
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                // The server closes the idle connection.
                assertEquals(-1, socket.getInputStream().read());
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            }
        }
    }

    @Test
    public void idleTimeoutWithNothingSent() throws Exception
    {
        try (TrackedServer s = withIdleTimeout(400).start())
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                assertEquals(-1, socket.getInputStream().read());
                assertEquals(seq("new", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            }
        }
    }

    @Test
    public void nothingSent() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                s.recorder.idOfClientPort(clientPort);
            }
            assertEquals(seq("new", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    private static void abortMidRequestBody(boolean reset) throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            Socket socket = Raw.connect(s.port());
            int clientPort = socket.getLocalPort();
            Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
            long id = s.recorder.idOfClientPort(clientPort);
            Recorder.await("active", () -> s.recorder.sequence(id).contains(ConnState.ACTIVE));
            if (reset)
                Raw.reset(socket);
            else
                socket.close();
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void clientClosesMidRequestBody() throws Exception
    {
        abortMidRequestBody(false);
    }

    @Test
    public void clientResetsMidRequestBody() throws Exception
    {
        abortMidRequestBody(true);
    }

    private static void abortMidResponse(boolean reset) throws Exception
    {
        Handler big = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception
            {
                // 64 MB in 64 KB writes: far more than the socket buffers hold.
                byte[] chunk = new byte[64 * 1024];
                try (OutputStream out = Content.Sink.asOutputStream(response))
                {
                    for (int i = 0; i < 1024; i++)
                        out.write(chunk);
                }
                callback.succeeded();
                return true;
            }
        };
        try (TrackedServer s = new TrackedServer().handler(big).start())
        {
            Socket socket = Raw.connect(s.port());
            int clientPort = socket.getLocalPort();
            Raw.write(socket, GET);
            socket.getInputStream().readNBytes(100_000);
            if (reset)
                Raw.reset(socket);
            else
                socket.close();
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    /**
     * Responds 32 MB in one last write: the response is whole as far as the generator goes, only
     * its write fails when the client leaves.
     */
    static final class OneBigLastWrite extends Handler.Abstract
    {
        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            response.write(true, ByteBuffer.allocate(32 * 1024 * 1024), callback);
            return true;
        }
    }

    /** A GET to {@link OneBigLastWrite} on {@code socket}, reset after 100 KB of the response. */
    static void resetDuringTheLastWrite(TrackedServer s, Socket socket) throws Exception
    {
        int clientPort = socket.getLocalPort();
        Raw.write(socket, GET);
        socket.getInputStream().readNBytes(100_000);
        Raw.reset(socket);
        assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
        assertEquals(CloseReason.REMOTE_CLOSE, lastReason(s, clientPort));
    }

    @Test
    public void clientResetsDuringTheLastWrite() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new OneBigLastWrite()).start())
        {
            resetDuringTheLastWrite(s, Raw.connect(s.port()));
        }
    }

    @Test
    public void clientClosesMidResponse() throws Exception
    {
        abortMidResponse(false);
    }

    @Test
    public void clientResetsMidResponse() throws Exception
    {
        abortMidResponse(true);
    }

    @Test
    public void responsesWithoutBodyKeepTheConnection() throws Exception
    {
        Handler statuses = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                String path = Request.getPathInContext(request);
                switch (path)
                {
                    case "/204" -> response.setStatus(204);
                    case "/304" -> response.setStatus(304);
                    default -> response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 5);
                }
                // HEAD: Jetty writes the head only, whatever the handler writes.
                Content.Sink.write(response, true, path.equals("/") ? "hello" : "", callback);
                return true;
            }
        };
        try (TrackedServer s = new TrackedServer().handler(statuses).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET /204 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(204, Raw.read(socket.getInputStream()).status());
                Raw.write(socket, "GET /304 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(304, Raw.read(socket.getInputStream()).status());
                Raw.write(socket, "HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(200, Raw.readHead(socket.getInputStream()).status());
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
            }
            assertEquals(Recorder.keepAlive(4), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void handlerThrows() throws Exception
    {
        Handler throwing = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                if (Request.getPathInContext(request).equals("/boom"))
                    throw new IllegalStateException("boom (thrown on purpose by the test)");
                Content.Sink.write(response, true, "fine", callback);
                return true;
            }
        };
        // Jetty 12.1.6 on: the 500, then the next request is served.  new, active, idle, active, idle, closed
        // Jetty 12.1.4, 12.1.5: the 500 (whole, no Connection: close), then Jetty closes.  new, active, closed (error)
        boolean keeps = JettyVersion.RUNNING.isAtLeast(12, 1, 6);
        try (TrackedServer s = new TrackedServer().handler(throwing).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET /boom HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Raw.Response error = Raw.read(socket.getInputStream());
                assertEquals(500, error.status());
                assertEquals(null, error.header("Connection"));
                if (keeps)
                {
                    // Jetty keeps the connection after a 500 it could write whole: the next request is served.
                    Raw.write(socket, GET);
                    assertEquals("fine", Raw.read(socket.getInputStream()).text());
                }
                else
                {
                    // Before 12.1.6 Jetty failed the request's stream after writing the 500 (jetty/jetty.project#14370).
                    assertEquals("", Raw.readToEnd(socket));
                }
            }
            assertEquals(keeps ? seq("new", "active", "idle", "active", "idle", "closed") : seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
            if (!keeps)
                assertEquals(CloseReason.ERROR, lastReason(s, clientPort));
        }
    }

    @Test
    public void handlerFailsAfterCommit() throws Exception
    {
        Handler failing = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 10);
                response.write(false, BufferUtil.toBuffer("half"), Callback.from(
                    () -> callback.failed(new IllegalStateException("failed after commit (on purpose, by the test)")), callback::failed));
                return true;
            }
        };
        // Jetty aborts the connection: the response cannot be completed.
        try (TrackedServer s = new TrackedServer().handler(failing).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                Raw.readToEnd(socket);
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
            assertEquals(CloseReason.ERROR, lastReason(s, clientPort));
        }
    }

    static CloseReason lastReason(TrackedServer s, int clientPort)
    {
        List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
        return events.get(events.size() - 1).reason();
    }

    @Test
    public void responseShorterThanItsContentLength() throws Exception
    {
        Handler shortBody = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                if (Request.getPathInContext(request).equals("/short"))
                {
                    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, 10);
                    response.write(false, BufferUtil.toBuffer("half"), callback);
                }
                else
                {
                    Content.Sink.write(response, true, "hello", callback);
                }
                return true;
            }
        };
        try (TrackedServer s = new TrackedServer().handler(shortBody).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET /short HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(200, Raw.readHead(socket.getInputStream()).status());
                assertEquals("half", new String(socket.getInputStream().readNBytes(4), StandardCharsets.US_ASCII));
                // Jetty took the response as complete and kept the connection: it serves the next request.
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
            }
            assertEquals(Recorder.keepAlive(2), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void handlerCompletesWithADemandPending() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                request.demand(() -> {});
                Content.Sink.write(response, true, "done", callback);
                return true;
            }
        }).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n");
                Raw.readToEnd(socket);
            }
            // The response was whole, but Jetty aborts a connection with a read pending.
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
            assertEquals(CloseReason.ERROR, lastReason(s, clientPort));
        }
    }

    @Test
    public void unreadRequestBody() throws Exception
    {
        AtomicInteger completed = new AtomicInteger();
        Handler ignoresBody = new Handler.Abstract()
        {
            @Override
            public boolean handle(Request request, Response response, Callback callback)
            {
                // Jetty completes the request (and tries to consume its content) within callback.succeeded().
                Content.Sink.write(response, true, "ignored", Callback.from(() ->
                {
                    callback.succeeded();
                    completed.incrementAndGet();
                }, callback::failed));
                return true;
            }
        };
        // On every version: new, active, idle, active, closed (local_close). After the second response:
        // Jetty 12.1.6 on: Jetty closes at once.
        // Jetty 12.1.4, 12.1.5: Jetty keeps the socket open (active) and parses nothing more; it closes
        // when the client closes its side, or at the idle timeout.
        boolean closes = JettyVersion.RUNNING.isAtLeast(12, 1, 6);
        try (TrackedServer s = new TrackedServer().handler(ignoresBody).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                // The body has arrived: Jetty consumes it and keeps the connection.
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
                assertEquals("ignored", Raw.read(socket.getInputStream()).text());
                // The body has not arrived: Jetty cannot consume it, and does not keep the connection
                // (the response, committed before, has no Connection: close).
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n");
                Raw.Response response = Raw.read(socket.getInputStream());
                assertEquals("ignored", response.text());
                assertEquals(null, response.header("Connection"));
                if (!closes)
                {
                    // Before 12.1.6 unread content made the connection non-persistent without failing the request's stream.
                    Recorder.await("the second request to complete", () -> completed.get() == 2);
                    assertEquals(seq("new", "active", "idle", "active"), s.recorder.sequence(s.recorder.idOfClientPort(clientPort)));
                    socket.shutdownOutput();
                }
                assertEquals("", Raw.readToEnd(socket));
            }
            assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(clientPort));
            assertEquals(CloseReason.LOCAL_CLOSE, lastReason(s, clientPort));
        }
    }

    /** Sends half a request head on {@code socket}, then closes it: the connection was active. */
    static void partialHeadThenClientClose(TrackedServer s, Socket socket) throws Exception
    {
        int clientPort;
        try (socket)
        {
            clientPort = socket.getLocalPort();
            Raw.write(socket, "GET / HTTP/1.1\r\nHo");
            // TCP delivers the bytes before the FIN: the server reads them before it sees the close.
            s.recorder.idOfClientPort(clientPort);
        }
        assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
    }

    @Test
    public void partialHeadThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            partialHeadThenClientClose(s, Raw.connect(s.port()));
        }
    }

    @Test
    public void partialHeadAfterARequestThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                long id = s.recorder.idOfClientPort(clientPort);
                Recorder.await("idle", () -> s.recorder.sequence(id).size() == 3);
                Raw.write(socket, "GET / HT");
                // TCP delivers the bytes before the FIN: the server reads them before it sees the close.
                s.recorder.idOfClientPort(clientPort);
            }
            assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void requestAndPartialHeadInOneWriteThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                // One read on the server gets the first request and the start of the second.
                Raw.write(socket, GET + "GET / HT");
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                long id = s.recorder.idOfClientPort(clientPort);
                Recorder.await("idle", () -> s.recorder.sequence(id).size() == 3);
            }
            assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }

    @Test
    public void malformedRequest() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, "GARBAGE\r\n\r\n");
                String response = Raw.readToEnd(socket);
                assertTrue(response.startsWith("HTTP/1.1 400"), response);
                assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            }
        }
    }

    @Test
    public void malformedHeaderAfterARequest() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, GET);
                assertEquals("hello", Raw.read(socket.getInputStream()).text());
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n");
                String response = Raw.readToEnd(socket);
                assertTrue(response.startsWith("HTTP/1.1 400"), response);
                assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            }
        }
    }

    @Test
    public void requestHeadTimesOut() throws Exception
    {
        try (TrackedServer s = withIdleTimeout(400).start())
        {
            try (Socket socket = Raw.connect(s.port()))
            {
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n");
                // Whatever Jetty answers (if anything), it closes the connection.
                Raw.readToEnd(socket);
                assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
            }
        }
    }
}
