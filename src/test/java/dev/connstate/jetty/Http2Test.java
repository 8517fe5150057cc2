package dev.connstate.jetty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import dev.connstate.ConnLogRecords;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.RawClient;
import dev.connstate.RawH2;
import dev.connstate.Tls;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import dev.connstate.sink.ConnLogSink;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.client.transport.HttpClientTransportOverHTTP2;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/2 over TLS (ALPN) and h2c (prior knowledge and the HTTP/1.1 upgrade): {@code active} on
 * the first active stream, {@code idle} when the last ends; opening the session is no request.
 */
public class Http2Test
{
    /** Holds requests to {@code /wait} until released, so that streams overlap. */
    static class Gate extends Handler.Abstract
    {
        final CountDownLatch arrived;
        final CountDownLatch release = new CountDownLatch(1);

        Gate(int streams)
        {
            arrived = new CountDownLatch(streams);
        }

        @Override
        public boolean handle(Request request, Response response, Callback callback) throws Exception
        {
            if (Request.getPathInContext(request).equals("/wait"))
            {
                arrived.countDown();
                // Bounded: a broken test must fail, not hang a server thread.
                if (!release.await(15, TimeUnit.SECONDS))
                    throw new IllegalStateException("never released");
            }
            Content.Sink.write(response, true, "hello", callback);
            return true;
        }
    }

    static TrackedServer h2Server(Handler handler) throws Exception
    {
        TrackedServer s = new TrackedServer().handler(handler);
        HttpConnectionFactory http1 = new HttpConnectionFactory(s.httpConfig);
        HTTP2ServerConnectionFactory h2 = new HTTP2ServerConnectionFactory(s.httpConfig);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(http1.getProtocol());
        SslConnectionFactory ssl = new SslConnectionFactory(Tls.server(), alpn.getProtocol());
        s.addConnector(ssl, alpn, h2, http1);
        return s.start();
    }

    static TrackedServer h2cServer(Handler handler) throws Exception
    {
        TrackedServer s = new TrackedServer().handler(handler);
        s.addConnector(new HttpConnectionFactory(s.httpConfig), new HTTP2CServerConnectionFactory(s.httpConfig));
        return s.start();
    }

    static HttpClient h2Client() throws Exception
    {
        ClientConnector connector = new ClientConnector();
        connector.setSslContextFactory(Tls.client());
        HttpClient client = new HttpClient(new HttpClientTransportOverHTTP2(new HTTP2Client(connector)));
        // One connection, so that concurrent requests are streams of one session.
        client.setMaxConnectionsPerDestination(1);
        client.start();
        return client;
    }

    private static void overlappingStreams(TrackedServer s, Gate gate, String scheme) throws Exception
    {
        HttpClient client = h2Client();
        try
        {
            List<CompletableFuture<ContentResponse>> responses = new ArrayList<>();
            for (int i = 0; i < 3; i++)
            {
                responses.add(new CompletableResponseListener(client.newRequest(scheme + "://127.0.0.1:" + s.port() + "/wait").timeout(15, TimeUnit.SECONDS)).send());
            }
            assertTrue(gate.arrived.await(15, TimeUnit.SECONDS), "three streams in the handler at once");
            gate.release.countDown();
            for (CompletableFuture<ContentResponse> response : responses)
                assertEquals("hello", response.get(15, TimeUnit.SECONDS).getContentAsString());
        }
        finally
        {
            gate.release.countDown();
            client.stop();
        }
    }

    private static void sequentialRequests(TrackedServer s, String scheme) throws Exception
    {
        HttpClient client = h2Client();
        try
        {
            for (int i = 0; i < 2; i++)
            {
                ContentResponse response = client.newRequest(scheme + "://127.0.0.1:" + s.port() + "/").timeout(15, TimeUnit.SECONDS).send();
                assertEquals("hello", response.getContentAsString());
            }
        }
        finally
        {
            client.stop();
        }
    }

    private static List<ConnStateEvent> onlyConnection(TrackedServer s, List<ConnState> expected)
    {
        Map<Long, List<ConnState>> all = s.recorder.awaitAllEnded(1);
        assertEquals(List.of(expected), List.copyOf(all.values()));
        return s.recorder.events(all.keySet().iterator().next());
    }

    @Test
    public void h2ThreeOverlappingStreams() throws Exception
    {
        Gate gate = new Gate(3);
        try (TrackedServer s = h2Server(gate))
        {
            overlappingStreams(s, gate, "https");
            List<ConnStateEvent> events = onlyConnection(s, seq("new", "active", "idle", "closed"));
            assertEquals("h2", events.get(1).protocol());
            assertTrue(events.stream().allMatch(ConnStateEvent::secure));
            assertEquals(3, events.get(3).requests());
            // Its connection log record (checked whole against the transitions when the server closes):
            // three requests in one active period, and no wait between two requests.
            String record = ConnLogSink.record(events.get(3));
            assertTrue(record.contains(",\"protocol\":\"h2\",\"secure\":true,\"tls\":{\"protocol\":\"TLSv1.3\","), record);
            assertTrue(record.contains(",\"requests\":3,\"activeMs\":" + ConnLogRecords.millis(events.get(2).previousNanos()) +
                ",\"idleMs\":" + ConnLogRecords.millis(events.get(3).previousNanos()) + ",\"maxIdleMs\":null,"), record);
        }
    }

    @Test
    public void h2TwoSequentialRequests() throws Exception
    {
        try (TrackedServer s = h2Server(new TrackedServer.Hello()))
        {
            sequentialRequests(s, "https");
            List<ConnStateEvent> events = onlyConnection(s, seq("new", "active", "idle", "active", "idle", "closed"));
            // Accepted as TLS, before ALPN chose h2.
            assertEquals("unknown", events.get(0).protocol());
            assertEquals("h2", events.get(1).protocol());
        }
    }

    @Test
    public void h2StreamResetByClientLeavesTheConnectionIdle() throws Exception
    {
        Gate gate = new Gate(1);
        try (TrackedServer s = h2Server(gate))
        {
            HttpClient client = h2Client();
            try
            {
                org.eclipse.jetty.client.Request waiting = client.newRequest("https://127.0.0.1:" + s.port() + "/wait").timeout(15, TimeUnit.SECONDS);
                CompletableFuture<ContentResponse> aborted = new CompletableResponseListener(waiting).send();
                assertTrue(gate.arrived.await(15, TimeUnit.SECONDS));
                // RST_STREAM: the stream fails, the session stays.
                waiting.abort(new Exception("aborted by the test"));
                assertTrue(aborted.handle((r, x) -> x != null).get(15, TimeUnit.SECONDS));
                gate.release.countDown();
                Wait.until("idle after the reset stream", () -> s.recorder.connectionCount() == 1 &&
                    s.recorder.sequence(onlyId(s)).equals(seq("new", "active", "idle")));
                assertEquals("hello", client.newRequest("https://127.0.0.1:" + s.port() + "/").timeout(15, TimeUnit.SECONDS).send().getContentAsString());
            }
            finally
            {
                gate.release.countDown();
                client.stop();
            }
            onlyConnection(s, seq("new", "active", "idle", "active", "idle", "closed"));
        }
    }

    private static long onlyId(TrackedServer s)
    {
        return s.recorder.ids().iterator().next();
    }

    /**
     * A client that closes as soon as it has the response races Jetty's end of the stream: the
     * session may see the close before the stream completes. The response was whole, so the
     * connection was idle when it closed, every time.
     */
    @Test
    public void h2cClientClosesRightAfterTheResponse() throws Exception
    {
        int connections = 40;
        try (TrackedServer s = h2cServer(new TrackedServer.Hello()))
        {
            for (int i = 0; i < connections; i++)
            {
                HttpClient client = h2Client();
                try
                {
                    assertEquals("hello", client.newRequest("http://127.0.0.1:" + s.port() + "/").timeout(15, TimeUnit.SECONDS).send().getContentAsString());
                }
                finally
                {
                    client.stop();
                }
            }
            Map<Long, List<ConnState>> all = s.recorder.awaitAllEnded(connections);
            assertEquals(connections, all.size());
            all.forEach((id, sequence) -> assertEquals(seq("new", "active", "idle", "closed"), sequence, "connection " + id));
        }
    }

    @Test
    public void h2cPriorKnowledgeThreeOverlappingStreams() throws Exception
    {
        Gate gate = new Gate(3);
        try (TrackedServer s = h2cServer(gate))
        {
            overlappingStreams(s, gate, "http");
            List<ConnStateEvent> events = onlyConnection(s, seq("new", "active", "idle", "closed"));
            assertEquals("h2c", events.get(1).protocol());
            assertTrue(events.stream().noneMatch(ConnStateEvent::secure));
        }
    }

    @Test
    public void h2cPriorKnowledgeTwoSequentialRequests() throws Exception
    {
        try (TrackedServer s = h2cServer(new TrackedServer.Hello()))
        {
            sequentialRequests(s, "http");
            List<ConnStateEvent> events = onlyConnection(s, seq("new", "active", "idle", "active", "idle", "closed"));
            // Accepted as HTTP/1 (it could have been any version): the preface tells h2c.
            assertEquals("unknown", events.get(0).protocol());
            assertEquals("h2c", events.get(1).protocol());
        }
    }

    @Test
    public void h2cPrefaceOnlyThenClose() throws Exception
    {
        try (TrackedServer s = h2cServer(new TrackedServer.Hello()))
        {
            try (RawClient c = s.connect())
            {
                // The session opens (preface, settings) but no stream does: not a request.
                c.send(RawH2.PREFACE_AND_SETTINGS);
                RawH2.readFrameOfType(c.in(), 0x4);
                c.close();
                c.assertSequence("new", "closed");
            }
        }
    }

    @Test
    public void h2cUpgradeFromHttp11() throws Exception
    {
        try (TrackedServer s = h2cServer(new TrackedServer.Hello()))
        {
            try (RawClient c = s.connect())
            {
                c.send(RawH2.upgradeRequest("/"));
                c.expect(101);
                c.send(RawH2.PREFACE_AND_SETTINGS);
                // The upgrade request becomes stream 1; its response ends the stream.
                RawH2.readEndOfStream(c.in(), 1);
                c.close();
                // A protocol switch, not a hijack and not a close: one connection, one request.
                c.assertSequence("new", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                assertEquals("h2c", events.get(1).protocol());
                assertEquals("h2c", events.get(3).protocol());
                assertEquals(1, s.recorder.connectionCount());
            }
        }
    }
}
