package dev.connstate.it;

import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http3.api.Session;
import org.eclipse.jetty.http3.api.Stream;
import org.eclipse.jetty.http3.client.HTTP3Client;
import org.eclipse.jetty.http3.client.HTTP3ClientQuicConfiguration;
import org.eclipse.jetty.http3.frames.GoAwayFrame;
import org.eclipse.jetty.http3.frames.HeadersFrame;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.quic.quiche.client.QuicheClientQuicConfiguration;
import org.eclipse.jetty.quic.quiche.client.QuicheTransport;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.ssl.SslContextFactory;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An HTTP/3 client of its own (Jetty's {@link HTTP3Client} over Quiche): each {@link #connect}
 * is one QUIC connection to the server, on which {@link Conn#get} sends requests as streams.
 */
final class H3Client implements AutoCloseable
{
    static final long TIMEOUT_SECONDS = 15;

    private final QuicheClientQuicConfiguration quic;
    private final HTTP3Client client;
    private final SslContextFactory.Client ssl = new SslContextFactory.Client(true);

    /**
     * @param streamWindow the bytes of a response the client takes before it reads them: small,
     * to keep a large response in flight on the server until the test reads it
     */
    H3Client(int streamWindow) throws Exception
    {
        quic = HTTP3ClientQuicConfiguration.configure(new QuicheClientQuicConfiguration());
        quic.setLocalBidirectionalStreamMaxData(streamWindow);
        quic.setSessionMaxData(2L * streamWindow);
        client = new HTTP3Client(quic);
        client.addBean(ssl);
        client.start();
    }

    H3Client() throws Exception
    {
        this(8 * 1024 * 1024);
    }

    /** Opens one QUIC connection and waits (bounded) for its handshake. */
    Conn connect(int port) throws Exception
    {
        Conn conn = new Conn(port);
        CompletableFuture<Session.Client> session = new CompletableFuture<>();
        client.connect(new QuicheTransport(quic), ssl, new InetSocketAddress("127.0.0.1", port), conn, promise(session));
        conn.session = session.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        return conn;
    }

    @Override
    public void close() throws Exception
    {
        client.stop();
    }

    private static <T> Promise.Invocable<T> promise(CompletableFuture<T> future)
    {
        return new Promise.Invocable.NonBlocking<>()
        {
            @Override
            public void succeeded(T result)
            {
                future.complete(result);
            }

            @Override
            public void failed(Throwable x)
            {
                future.completeExceptionally(x);
            }
        };
    }

    /** One QUIC connection, and what its session heard from the server. */
    static final class Conn implements Session.Client.Listener
    {
        private final int port;
        private final CountDownLatch goAway = new CountDownLatch(1);
        private final CountDownLatch disconnected = new CountDownLatch(1);
        private volatile String disconnect;
        private Session.Client session;

        private Conn(int port)
        {
            this.port = port;
        }

        /** Sends {@code GET path} as a new stream; the response is read as it comes. */
        Response get(String path) throws Exception
        {
            return get(path, true);
        }

        /**
         * @param read whether to read the body as it comes; if not, {@link Response#read()} starts
         * reading it, and until then the server's response waits on the client's flow control
         */
        Response get(String path, boolean read) throws Exception
        {
            MetaData.Request request = new MetaData.Request("GET", HttpURI.from("https://127.0.0.1:" + port + path), HttpVersion.HTTP_3, HttpFields.EMPTY);
            Response response = new Response(read);
            CompletableFuture<Stream> stream = new CompletableFuture<>();
            session.newRequest(new HeadersFrame(request, true), response, promise(stream));
            stream.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            return response;
        }

        /** Closes the QUIC connection as a client that is done: CONNECTION_CLOSE, no error. */
        void close() throws Exception
        {
            CompletableFuture<Session> closed = new CompletableFuture<>();
            session.goAway(false, promise(closed));
            closed.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            awaitDisconnect();
        }

        /** Waits (bounded) until the server's GOAWAY arrived. */
        void awaitGoAway() throws InterruptedException
        {
            assertTrue(goAway.await(TIMEOUT_SECONDS, TimeUnit.SECONDS), "no GOAWAY from the server within " + TIMEOUT_SECONDS + " s");
        }

        /** Waits (bounded) until the QUIC connection ended. */
        void awaitDisconnect() throws InterruptedException
        {
            assertTrue(disconnected.await(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the QUIC connection did not end within " + TIMEOUT_SECONDS + " s");
        }

        /** The QUIC error code and reason the connection ended with, once it ended. */
        String disconnect()
        {
            return disconnect;
        }

        @Override
        public void onGoAway(Session session, GoAwayFrame frame)
        {
            goAway.countDown();
        }

        @Override
        public void onDisconnect(Session session, long error, String reason)
        {
            disconnect = error + " " + reason;
            disconnected.countDown();
        }
    }

    /** One response: its status once its head came, and its body once it ended. */
    static final class Response implements Stream.Client.Listener
    {
        private final CompletableFuture<Integer> status = new CompletableFuture<>();
        private final CompletableFuture<byte[]> body = new CompletableFuture<>();
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        private volatile boolean reading;
        private volatile Stream.Client stream;

        private Response(boolean read)
        {
            this.reading = read;
        }

        int status() throws Exception
        {
            return status.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }

        /** Reads (bounded) the rest of the body, starting now if it was held back. */
        byte[] body() throws Exception
        {
            status();
            if (!reading)
            {
                reading = true;
                stream.demand();
            }
            return body.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }

        String text() throws Exception
        {
            return new String(body(), StandardCharsets.UTF_8);
        }

        @Override
        public void onResponse(Stream.Client stream, HeadersFrame frame)
        {
            this.stream = stream;
            status.complete(((MetaData.Response)frame.getMetaData()).getStatus());
            if (frame.isLast())
                body.complete(new byte[0]);
            else if (reading)
                stream.demand();
        }

        @Override
        public void onDataAvailable(Stream.Client stream)
        {
            Content.Chunk chunk = stream.read();
            if (chunk == null)
            {
                stream.demand();
                return;
            }
            if (Content.Chunk.isFailure(chunk))
            {
                body.completeExceptionally(chunk.getFailure());
                return;
            }
            ByteBuffer buffer = chunk.getByteBuffer();
            byte[] data = new byte[buffer.remaining()];
            buffer.get(data);
            synchronized (bytes)
            {
                bytes.write(data, 0, data.length);
            }
            chunk.release();
            if (chunk.isLast())
            {
                synchronized (bytes)
                {
                    body.complete(bytes.toByteArray());
                }
            }
            else
                stream.demand();
        }

        @Override
        public void onFailure(Stream.Client stream, long error, Throwable failure)
        {
            status.completeExceptionally(failure);
            body.completeExceptionally(failure);
        }
    }
}
