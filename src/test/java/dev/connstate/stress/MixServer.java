package dev.connstate.stress;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import dev.connstate.Recorder;
import dev.connstate.Tls;
import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.alpn.server.ALPNServerConnectionFactory;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http2.server.HTTP2CServerConnectionFactory;
import org.eclipse.jetty.http2.server.HTTP2ServerConnectionFactory;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.util.thread.Scheduler;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketError;
import org.eclipse.jetty.websocket.api.annotations.OnWebSocketMessage;
import org.eclipse.jetty.websocket.api.annotations.WebSocket;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The server the stress mix runs against: one {@link Server} with a tracker, an inline
 * {@link Recorder}, and three connectors on 127.0.0.1:
 * <ul>
 *   <li>{@link #plain}: HTTP/1.1 and h2c (prior knowledge and upgrade), WebSocket; long idle timeout</li>
 *   <li>{@link #tls}: TLS with ALPN, h2 and HTTP/1.1; long idle timeout</li>
 *   <li>{@link #shortIdle}: HTTP/1.1 with a short idle timeout, for the behaviours that wait it out</li>
 * </ul>
 * The long idle timeout is far above any pause of the mix, so that only the behaviours that
 * mean to time out do (their sequences stay deterministic on a loaded machine).
 */
final class MixServer
{
    static final long LONG_IDLE_MS = 30_000;
    static final long SHORT_IDLE_MS = 1_000;
    static final int TLS_SESSION_CACHE = 256;

    final Server server;
    final ConnStateTracker tracker;
    final Recorder recorder = new Recorder();
    final HttpConfiguration httpConfig = new HttpConfiguration();
    final ServerConnector plain;
    final ServerConnector tls;
    final ServerConnector shortIdle;
    final MixHandler handler = new MixHandler();

    MixServer() throws Exception
    {
        QueuedThreadPool threads = new QueuedThreadPool(256, 8);
        threads.setName("mix-server");
        server = new Server(threads);
        tracker = new ConnStateTracker(server);
        tracker.addInlineListener(recorder);
        server.addBean(tracker);

        HttpConnectionFactory http1 = new HttpConnectionFactory(httpConfig);
        plain = connector(LONG_IDLE_MS, http1, new HTTP2CServerConnectionFactory(httpConfig));

        HttpConnectionFactory tlsHttp1 = new HttpConnectionFactory(httpConfig);
        ALPNServerConnectionFactory alpn = new ALPNServerConnectionFactory();
        alpn.setDefaultProtocol(tlsHttp1.getProtocol());
        org.eclipse.jetty.util.ssl.SslContextFactory.Server sslContext = Tls.server();
        // The JDK caches TLS sessions (20480 by default, soft references): a soak would measure the cache filling up.
        sslContext.setSslSessionCacheSize(TLS_SESSION_CACHE);
        SslConnectionFactory ssl = new SslConnectionFactory(sslContext, alpn.getProtocol());
        tls = connector(LONG_IDLE_MS, ssl, alpn, new HTTP2ServerConnectionFactory(httpConfig), tlsHttp1);

        shortIdle = connector(SHORT_IDLE_MS, new HttpConnectionFactory(httpConfig));

        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, container ->
            container.addMapping("/ws", (rq, rs, cb) -> new Echo()));
        ws.setHandler(handler);
        server.setHandler(ws);
    }

    private ServerConnector connector(long idleTimeout, org.eclipse.jetty.server.ConnectionFactory... factories)
    {
        ServerConnector c = new ServerConnector(server, 1, 1, factories);
        c.setHost("127.0.0.1");
        c.setPort(0);
        c.setIdleTimeout(idleTimeout);
        c.setAcceptQueueSize(1024);
        server.addConnector(c);
        return c;
    }

    MixServer start() throws Exception
    {
        server.start();
        return this;
    }

    /** Echoes text messages. */
    @WebSocket
    public static class Echo
    {
        @OnWebSocketMessage
        public void onText(Session session, String text)
        {
            session.sendText(text, org.eclipse.jetty.websocket.api.Callback.NOOP);
        }

        @OnWebSocketError
        public void onError(Throwable failure)
        {
            // Clients of the mix reset WebSocket connections on purpose.
        }
    }

    /**
     * {@code /}: "hello". {@code /gate?k=KEY&n=N}: held until N requests with the same key are
     * in, then all answered (overlapping HTTP/2 streams, for sure). {@code /stream?chunks=N&ms=M}:
     * N chunks of 8 KiB, M ms apart. {@code /upload}: commits a response head, then reads the
     * whole body before ending it. Nothing blocks a server thread.
     */
    final class MixHandler extends Handler.Abstract
    {
        private final Map<String, List<Runnable>> gates = new ConcurrentHashMap<>();

        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            String path = Request.getPathInContext(request);
            Fields query = Request.extractQueryParameters(request);
            switch (path)
            {
                case "/gate" -> gate(query.getValue("k"), Integer.parseInt(query.getValue("n")), response, callback);
                case "/stream" -> stream(response, callback, Integer.parseInt(query.getValue("chunks")), Integer.parseInt(query.getValue("ms")));
                case "/upload" -> upload(request, response, callback);
                default -> hello(response, callback);
            }
            return true;
        }

        private void hello(Response response, Callback callback)
        {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            Content.Sink.write(response, true, "hello", callback);
        }

        private void gate(String key, int n, Response response, Callback callback)
        {
            List<Runnable> waiting;
            Runnable answer = () -> hello(response, callback);
            synchronized (gates)
            {
                waiting = gates.computeIfAbsent(key, k -> new ArrayList<>());
                waiting.add(answer);
                if (waiting.size() < n)
                {
                    // Bounded: a stream that never gets company is answered anyway (and the sequence check fails).
                    scheduler().schedule(() -> release(key), 15, TimeUnit.SECONDS);
                    return;
                }
            }
            release(key);
        }

        private void release(String key)
        {
            List<Runnable> waiting;
            synchronized (gates)
            {
                waiting = gates.remove(key);
            }
            if (waiting != null)
                waiting.forEach(Runnable::run);
        }

        private void stream(Response response, Callback callback, int chunks, int ms)
        {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            writeChunk(response, callback, chunks, ms);
        }

        private void writeChunk(Response response, Callback callback, int left, int ms)
        {
            boolean last = left == 1;
            response.write(last, ByteBuffer.allocate(8192), Callback.from(() ->
            {
                if (last)
                    callback.succeeded();
                else
                    scheduler().schedule(() -> writeChunk(response, callback, left - 1, ms), ms, TimeUnit.MILLISECONDS);
            }, callback::failed));
        }

        private void upload(Request request, Response response, Callback callback)
        {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain");
            response.write(false, ByteBuffer.wrap("reading\n".getBytes(StandardCharsets.US_ASCII)), Callback.from(() ->
                Content.Source.consumeAll(request, Callback.from(() ->
                    response.write(true, ByteBuffer.wrap("done\n".getBytes(StandardCharsets.US_ASCII)), callback), callback::failed)),
                callback::failed));
        }

        private Scheduler scheduler()
        {
            return server.getScheduler();
        }

        int heldGates()
        {
            return gates.size();
        }
    }
}
