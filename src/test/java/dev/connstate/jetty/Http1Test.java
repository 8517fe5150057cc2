package dev.connstate.jetty;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import dev.connstate.Wait;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.RawClient;
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
            try (RawClient c = s.connect())
            {
                for (int i = 0; i < 3; i++)
                {
                    c.send(GET);
                    assertEquals("hello", c.read().text());
                }
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                // HTTP/1 tells its version with the first request line.
                assertEquals("unknown", events.get(0).protocol());
                assertEquals("http/1.1", events.get(1).protocol());
                assertEquals(false, events.get(1).secure());
                assertEquals(3, events.get(events.size() - 1).requests());
            }
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
            try (RawClient c = s.connect())
            {
                c.id();
                c.send("GET / HTTP/1.1\r\n");
                // A client that is slow to send its head (a stimulus, not a wait for the server).
                Thread.sleep(500);
                c.send("Host: localhost\r\n\r\n");
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                // The slow head counts as active time, not as time spent new.
                assertTrue(events.get(2).previousMillis() >= 250, "active for " + events.get(2).previousMillis() + " ms");
                assertTrue(events.get(1).previousMillis() < 250, "new for " + events.get(1).previousMillis() + " ms");
            }
        }
    }

    @Test
    public void http10WithoutKeepAlive() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send("GET / HTTP/1.0\r\n\r\n");
                // Jetty answers with its own version and shuts its output: no keep-alive was asked for.
                String response = c.readToEnd();
                assertTrue(response.startsWith("HTTP/1.1 200") && response.endsWith("hello"), response);
                c.close();
                c.assertSequence("new", "active", "closed");
                assertEquals("http/1.0", c.events().get(1).protocol());
            }
        }
    }

    @Test
    public void http10KeepAlive() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                for (int i = 0; i < 2; i++)
                {
                    c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
                    Raw.Response response = c.read();
                    assertEquals("keep-alive", response.header("Connection"));
                    assertEquals("hello", response.text());
                }
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "closed");
                assertEquals("http/1.0", c.events().get(1).protocol());
            }
        }
    }

    @Test
    public void pipelining() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send(GET + GET + GET);
                for (int i = 0; i < 3; i++)
                    assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "active", "idle", "closed");
            }
        }
    }

    @Test
    public void connectionCloseFromClient() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                // The server shuts its output after the response; the socket closes when the client closes too.
                String response = c.readToEnd();
                assertTrue(response.endsWith("hello"), response);
                c.close();
                c.assertSequence("new", "active", "closed");
            }
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
            try (RawClient c = s.connect())
            {
                c.send(GET);
                // The server shuts its output after the response and waits for the client's close.
                String response = c.readToEnd();
                assertTrue(response.endsWith("bye"), response);
                c.close();
                c.assertSequence("new", "active", "closed");
            }
        }
    }

    @Test
    public void expect100Continue() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            try (RawClient c = s.connect())
            {
                c.send("POST / HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
                // The server asks for the body only when the handler reads it.
                assertEquals("HTTP/1.1 100 Continue\r\n\r\n", c.readText(25));
                c.send("hello");
                assertEquals("5", c.read().text());
                c.send(GET);
                assertEquals("0", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "closed");
            }
        }
    }

    @Test
    public void chunkedUpload() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            try (RawClient c = s.connect())
            {
                c.send("POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n");
                for (int i = 0; i < 10; i++)
                    c.send("400\r\n" + "x".repeat(1024) + "\r\n");
                c.send("0\r\n\r\n");
                assertEquals("10240", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "closed");
            }
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
            try (RawClient c = s.connect())
            {
                c.send(GET);
                assertEquals("hello", c.read().text());
                // The server closes the idle connection.
                assertEquals(-1, c.in().read());
                c.assertSequence("new", "active", "idle", "closed");
            }
        }
    }

    @Test
    public void idleTimeoutWithNothingSent() throws Exception
    {
        try (TrackedServer s = withIdleTimeout(400).start())
        {
            try (RawClient c = s.connect())
            {
                assertEquals(-1, c.in().read());
                c.assertSequence("new", "closed");
            }
        }
    }

    @Test
    public void nothingSent() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.id();
                c.close();
                c.assertSequence("new", "closed");
            }
        }
    }

    private static void abortMidRequestBody(boolean reset) throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new CountBody()).start())
        {
            try (RawClient c = s.connect())
            {
                c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
                c.awaitSequence("new", "active");
                if (reset)
                    c.reset();
                else
                    c.close();
                c.assertSequence("new", "active", "closed");
            }
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
            try (RawClient c = s.connect())
            {
                c.send(GET);
                c.in().readNBytes(100_000);
                if (reset)
                    c.reset();
                else
                    c.close();
                c.assertSequence("new", "active", "closed");
            }
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

    /** A GET to {@link OneBigLastWrite} on {@code c}, reset after 100 KB of the response. */
    static void resetDuringTheLastWrite(RawClient c) throws Exception
    {
        c.send(GET);
        c.in().readNBytes(100_000);
        c.reset();
        c.assertSequence("new", "active", "closed");
        assertEquals(CloseReason.REMOTE_CLOSE, c.reason());
    }

    @Test
    public void clientResetsDuringTheLastWrite() throws Exception
    {
        try (TrackedServer s = new TrackedServer().handler(new OneBigLastWrite()).start())
        {
            resetDuringTheLastWrite(s.connect());
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
            try (RawClient c = s.connect())
            {
                c.send("GET /204 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                c.expect(204);
                c.send("GET /304 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                c.expect(304);
                c.send("HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(200, c.readHead().status());
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence(Recorder.keepAlive(4));
            }
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
            try (RawClient c = s.connect())
            {
                c.send(GET);
                c.readToEnd();
                c.close();
                c.assertSequence("new", "active", "closed");
                assertEquals(CloseReason.ERROR, c.reason());
            }
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
            try (RawClient c = s.connect())
            {
                c.send("GET /short HTTP/1.1\r\nHost: localhost\r\n\r\n");
                assertEquals(200, c.readHead().status());
                assertEquals("half", c.readText(4));
                // Jetty took the response as complete and kept the connection: it serves the next request.
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence(Recorder.keepAlive(2));
            }
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
            try (RawClient c = s.connect())
            {
                c.send("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\n");
                c.readToEnd();
                c.close();
                // The response was whole, but Jetty aborts a connection with a read pending.
                c.assertSequence("new", "active", "closed");
                assertEquals(CloseReason.ERROR, c.reason());
            }
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
                    Wait.until("the second request to complete", () -> completed.get() == 2);
                    assertEquals(seq("new", "active", "idle", "active"), s.recorder.sequence(s.recorder.idOfClientPort(clientPort)));
                    socket.shutdownOutput();
                }
                assertEquals("", Raw.readToEnd(socket));
            }
            assertEquals(seq("new", "active", "idle", "active", "closed"), s.recorder.awaitEnd(clientPort));
            assertEquals(CloseReason.LOCAL_CLOSE, lastReason(s, clientPort));
        }
    }

    /** Sends half a request head on {@code c}, then closes it: the connection was active. */
    static void partialHeadThenClientClose(RawClient c) throws Exception
    {
        try (c)
        {
            c.send("GET / HTTP/1.1\r\nHo");
            // TCP delivers the bytes before the FIN: the server reads them before it sees the close.
            c.id();
        }
        c.assertSequence("new", "active", "closed");
    }

    @Test
    public void partialHeadThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            partialHeadThenClientClose(s.connect());
        }
    }

    @Test
    public void partialHeadAfterARequestThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.awaitSequence("new", "active", "idle");
                c.send("GET / HT");
                // TCP delivers the bytes before the FIN: the server reads them before it sees the close.
                c.close();
                c.assertSequence("new", "active", "idle", "active", "closed");
            }
        }
    }

    @Test
    public void requestAndPartialHeadInOneWriteThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                // One read on the server gets the first request and the start of the second.
                c.send(GET + "GET / HT");
                assertEquals("hello", c.read().text());
                c.awaitSequence("new", "active", "idle");
                c.close();
                c.assertSequence("new", "active", "idle", "active", "closed");
            }
        }
    }

    @Test
    public void malformedRequest() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send("GARBAGE\r\n\r\n");
                String response = c.readToEnd();
                assertTrue(response.startsWith("HTTP/1.1 400"), response);
                c.assertSequence("new", "active", "closed");
            }
        }
    }

    @Test
    public void malformedHeaderAfterARequest() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.send("GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n");
                String response = c.readToEnd();
                assertTrue(response.startsWith("HTTP/1.1 400"), response);
                c.assertSequence("new", "active", "idle", "active", "closed");
            }
        }
    }

    @Test
    public void requestHeadTimesOut() throws Exception
    {
        try (TrackedServer s = withIdleTimeout(400).start())
        {
            try (RawClient c = s.connect())
            {
                c.send("GET / HTTP/1.1\r\nHost: localhost\r\n");
                // Whatever Jetty answers (if anything), it closes the connection.
                c.readToEnd();
                c.assertSequence("new", "active", "closed");
            }
        }
    }
}
