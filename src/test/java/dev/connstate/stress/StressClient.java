package dev.connstate.stress;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import dev.connstate.ConnState;
import dev.connstate.Raw;
import dev.connstate.RawH2;
import dev.connstate.Recorder;
import dev.connstate.Tls;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import static dev.connstate.ConnState.ACTIVE;
import static dev.connstate.ConnState.CLOSED;
import static dev.connstate.ConnState.HIJACKED;
import static dev.connstate.ConnState.IDLE;
import static dev.connstate.ConnState.NEW;

/**
 * Drives the stress mix: thousands of client connections from 127.0.0.1, a few hundred open at
 * once, with a bounded pool of threads. A behaviour is a script of steps; a step does a little
 * blocking I/O (bounded by socket timeouts) and says how long to wait before the next one, and
 * the wait holds no thread. HTTP/2 behaviours use Jetty's {@link HTTP2Client}.
 *
 * <p>Every behaviour, drawn from a seeded {@link Random}, knows the sequence the server must
 * report for its connection. {@link #verify} maps each client connection (by its local port,
 * in connect order when a port was used twice) to the server's connection with that remote
 * port at {@code new}, and compares.</p>
 */
final class StressClient implements AutoCloseable
{
    static final int SO_TIMEOUT_MS = 10_000;
    /** A behaviour taking longer than this is failed (and its socket closed). */
    static final long RUN_DEADLINE_MS = 60_000;

    private final MixServer mix;
    private final ScheduledThreadPoolExecutor pool;
    private final HTTP2Client h2;
    private final SSLContext trustAll;
    private final SSLContext trustNone;
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final AtomicLong gateKeys = new AtomicLong();

    StressClient(MixServer mix, int threads) throws Exception
    {
        this.mix = mix;
        AtomicInteger n = new AtomicInteger();
        ThreadFactory factory = r ->
        {
            Thread t = new Thread(r, "stress-client-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        pool = new ScheduledThreadPoolExecutor(threads, factory);
        pool.setRemoveOnCancelPolicy(true);
        QueuedThreadPool h2Threads = new QueuedThreadPool(32, 4);
        h2Threads.setName("stress-h2client");
        h2Threads.setDaemon(true);
        ClientConnector connector = new ClientConnector();
        org.eclipse.jetty.util.ssl.SslContextFactory.Client ssl = Tls.client();
        ssl.setSslSessionCacheSize(MixServer.TLS_SESSION_CACHE);
        connector.setSslContextFactory(ssl);
        connector.setExecutor(h2Threads);
        connector.setSelectors(1);
        h2 = new HTTP2Client(connector);
        h2.start();
        // Jetty sizes only the server side session cache (SslContextFactory.load): bound the client's here.
        ssl.getSslContext().getClientSessionContext().setSessionCacheSize(MixServer.TLS_SESSION_CACHE);
        trustAll = context(true);
        trustNone = context(false);
    }

    private static SSLContext context(boolean trust) throws Exception
    {
        SSLContext context = Tls.clientContext(trust);
        context.getClientSessionContext().setSessionCacheSize(MixServer.TLS_SESSION_CACHE);
        return context;
    }

    @Override
    public void close() throws Exception
    {
        pool.shutdownNow();
        pool.awaitTermination(10, TimeUnit.SECONDS);
        h2.stop();
    }

    // ---- one run of the mix ----

    /** What a run did. */
    static final class Result
    {
        final long seed;
        final List<Conn> conns;
        final long elapsedMs;
        final int maxOpen;
        final boolean finished;

        Result(long seed, List<Conn> conns, long elapsedMs, int maxOpen, boolean finished)
        {
            this.seed = seed;
            this.conns = conns;
            this.elapsedMs = elapsedMs;
            this.maxOpen = maxOpen;
            this.finished = finished;
        }

        long connected()
        {
            return conns.stream().filter(c -> c.local != null).count();
        }

        List<String> errors()
        {
            List<String> errors = new ArrayList<>();
            for (Conn c : conns)
            {
                if (c.error != null)
                    errors.add(c + ": " + c.error);
                else if (!c.done)
                    errors.add(c + ": did not finish");
            }
            return errors;
        }

        Map<Kind, Integer> counts()
        {
            Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
            for (Conn c : conns)
                counts.merge(c.kind, 1, Integer::sum);
            return counts;
        }
    }

    /**
     * Runs {@code total} behaviours drawn from {@code seed}, at most {@code concurrency} at a
     * time, and waits (at most {@code bound}) until all finished.
     */
    Result run(long seed, int total, int concurrency, Duration bound) throws InterruptedException
    {
        Random random = new Random(seed);
        int weights = 0;
        for (Kind k : Kind.values())
            weights += k.weight;
        Semaphore slots = new Semaphore(concurrency);
        CountDownLatch finished = new CountDownLatch(total);
        List<Conn> conns = Collections.synchronizedList(new ArrayList<>(total));
        maxOpen.set(0);
        long start = System.nanoTime();
        long deadline = start + bound.toNanos();
        for (int i = 0; i < total; i++)
        {
            int draw = random.nextInt(weights);
            Kind kind = null;
            for (Kind k : Kind.values())
            {
                draw -= k.weight;
                if (draw < 0)
                {
                    kind = k;
                    break;
                }
            }
            Conn c = new Conn(i, kind, new Random(random.nextLong()));
            script(c);
            if (!slots.tryAcquire(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS))
                break;
            c.onDone = () ->
            {
                slots.release();
                finished.countDown();
            };
            conns.add(c);
            c.startedNanos = System.nanoTime();
            pool.execute(() -> advance(c));
        }
        boolean all = conns.size() == total && finished.await(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        if (!all)
        {
            // Give up on the stragglers: close their sockets so the server side can end too.
            synchronized (conns)
            {
                for (Conn c : conns)
                {
                    if (!c.done)
                        c.abort("still running after " + bound);
                }
            }
        }
        return new Result(seed, List.copyOf(conns), elapsedMs, maxOpen.get(), all);
    }

    // ---- scripts ----

    /** One step of a behaviour: some I/O, then the milliseconds to wait before the next step. */
    @FunctionalInterface
    interface Step
    {
        long run(Conn c) throws Exception;
    }

    /** One client connection and its script. */
    final class Conn
    {
        final int index;
        final Kind kind;
        final Random random;
        final List<Step> steps = new ArrayList<>();
        /** The exact sequence the server must report, or one of several when the race is the client's. */
        final List<List<ConnState>> expected = new ArrayList<>();
        String variant = "";
        int step;
        Socket socket;
        InputStream in;
        OutputStream out;
        volatile Session session;
        volatile InetSocketAddress local;
        volatile int serverPort;
        long connectedNanos;
        long startedNanos;
        volatile boolean done;
        volatile String error;
        Runnable onDone;
        private boolean counted;

        Conn(int index, Kind kind, Random random)
        {
            this.index = index;
            this.kind = kind;
            this.random = random;
        }

        Conn then(Step step)
        {
            steps.add(step);
            return this;
        }

        void expect(ConnState... states)
        {
            expected.add(List.of(states));
        }

        void connect(int port) throws IOException
        {
            Socket s = new Socket();
            s.setSoTimeout(SO_TIMEOUT_MS);
            s.connect(new InetSocketAddress("127.0.0.1", port), SO_TIMEOUT_MS);
            s.setTcpNoDelay(true);
            socket = s;
            in = s.getInputStream();
            out = s.getOutputStream();
            connected((InetSocketAddress)s.getLocalSocketAddress(), port);
        }

        synchronized void connected(InetSocketAddress address, int port)
        {
            local = address;
            serverPort = port;
            connectedNanos = System.nanoTime();
            counted = true;
            int now = open.incrementAndGet();
            maxOpen.accumulateAndGet(now, Math::max);
        }

        void tls(SSLContext context) throws IOException
        {
            SSLSocket ssl = (SSLSocket)context.getSocketFactory().createSocket(socket, "localhost", socket.getPort(), true);
            ssl.setSoTimeout(SO_TIMEOUT_MS);
            ssl.startHandshake();
            socket = ssl;
            in = ssl.getInputStream();
            out = ssl.getOutputStream();
        }

        void write(String ascii) throws IOException
        {
            write(ascii.getBytes(StandardCharsets.ISO_8859_1));
        }

        void write(byte[] bytes) throws IOException
        {
            out.write(bytes);
            out.flush();
        }

        void expectHello() throws IOException
        {
            Raw.Response response = Raw.read(in);
            if (response.status() != 200 || !"hello".equals(response.text()))
                throw new IOException("expected 200 hello, got " + response.status() + " " + response.text());
        }

        /** Reads until the server closes (a reset counts as closed). */
        String readToEnd() throws IOException
        {
            StringBuilder text = new StringBuilder();
            byte[] buffer = new byte[4096];
            try
            {
                for (int r; (r = in.read(buffer)) >= 0; )
                {
                    if (text.length() < 200)
                        text.append(new String(buffer, 0, Math.min(r, 200), StandardCharsets.ISO_8859_1));
                }
            }
            catch (java.net.SocketTimeoutException x)
            {
                throw x;
            }
            catch (IOException x)
            {
                // Reset by the server: closed too.
            }
            return text.toString();
        }

        void closeSocket()
        {
            Socket s = socket;
            if (s != null)
            {
                try
                {
                    s.close();
                }
                catch (IOException ignored)
                {
                }
            }
        }

        void reset() throws IOException
        {
            Socket s = socket;
            if (s instanceof SSLSocket)
                throw new IllegalStateException("no RST through SSLSocket");
            s.setSoLinger(true, 0);
            s.close();
        }

        synchronized void finish(Throwable failure)
        {
            if (done)
                return;
            if (failure != null && error == null)
                error = failure.toString();
            closeSocket();
            Session s = session;
            if (s != null && !s.isClosed())
                s.close(ErrorCode.NO_ERROR.code, "abort", Callback.NOOP);
            if (counted)
                open.decrementAndGet();
            done = true;
            if (onDone != null)
                onDone.run();
        }

        void abort(String why)
        {
            finish(new IllegalStateException(why));
        }

        @Override
        public String toString()
        {
            return "client#" + index + " " + kind + variant + " " + local;
        }
    }

    private void advance(Conn c)
    {
        try
        {
            while (!c.done && c.step < c.steps.size())
            {
                if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - c.startedNanos) > RUN_DEADLINE_MS)
                    throw new IllegalStateException("deadline of " + RUN_DEADLINE_MS + " ms passed at step " + c.step);
                long delay = c.steps.get(c.step++).run(c);
                if (delay > 0 && c.step < c.steps.size())
                {
                    pool.schedule(() -> advance(c), delay, TimeUnit.MILLISECONDS);
                    return;
                }
            }
            c.finish(null);
        }
        catch (Throwable x)
        {
            c.finish(x);
        }
    }

    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    private void script(Conn c)
    {
        Random r = c.random;
        int plain = mix.plain.getLocalPort();
        int tls = mix.tls.getLocalPort();
        int shortIdle = mix.shortIdle.getLocalPort();
        switch (c.kind)
        {
            case KEEP_ALIVE ->
            {
                int n = 1 + r.nextInt(4);
                boolean reset = r.nextInt(4) == 0;
                c.variant = "(" + n + (reset ? ",rst)" : ")");
                c.then(x -> connect(x, plain));
                for (int i = 0; i < n; i++)
                {
                    int think = r.nextInt(50);
                    c.then(x ->
                    {
                        x.write(GET);
                        x.expectHello();
                        return think;
                    });
                }
                c.expected.add(Recorder.keepAlive(n));
                c.then(x ->
                {
                    if (reset)
                        x.reset();
                    else
                        x.closeSocket();
                    return 0;
                });
            }
            case HOLD ->
            {
                int hold = 300 + r.nextInt(1200);
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write(GET);
                    x.expectHello();
                    return hold;
                }).then(x ->
                {
                    x.write(GET);
                    x.expectHello();
                    x.closeSocket();
                    return 0;
                });
                c.expect(NEW, ACTIVE, IDLE, ACTIVE, IDLE, CLOSED);
            }
            case CONNECTION_CLOSE, HTTP10 ->
            {
                String request = c.kind == Kind.HTTP10 ? "GET / HTTP/1.0\r\n\r\n" : "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write(request);
                    x.expectHello();
                    String rest = x.readToEnd();
                    if (!rest.isEmpty())
                        throw new IOException("bytes after the response: " + rest);
                    x.closeSocket();
                    return 0;
                });
                c.expect(NEW, ACTIVE, CLOSED);
            }
            case PIPELINE ->
            {
                int n = 2 + r.nextInt(3);
                c.variant = "(" + n + ")";
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write(GET.repeat(n));
                    for (int i = 0; i < n; i++)
                        x.expectHello();
                    x.closeSocket();
                    return 0;
                });
                c.expected.add(Recorder.keepAlive(n));
            }
            case PARTIAL_CLOSE ->
            {
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write("GET / HTTP/1.1\r\nHo");
                    x.closeSocket();
                    return 0;
                });
                c.expect(NEW, ACTIVE, CLOSED);
            }
            case PARTIAL_RESET ->
            {
                int pause = r.nextInt(20);
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write("GET /partial HTTP/1.1\r\nHost: loc");
                    return pause;
                }).then(x ->
                {
                    x.reset();
                    return 0;
                });
                // A RST may discard the bytes before the server reads them: the client's race, not the server's.
                c.expect(NEW, ACTIVE, CLOSED);
                c.expect(NEW, CLOSED);
            }
            case UPLOAD_RESET ->
            {
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write("POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n" + "x".repeat(1000));
                    Raw.Response head = Raw.readHead(x.in);
                    if (head.status() != 200)
                        throw new IOException("upload: " + head.status());
                    x.reset();
                    return 0;
                });
                c.expect(NEW, ACTIVE, CLOSED);
            }
            case RESET_MID_RESPONSE, CLOSE_MID_RESPONSE ->
            {
                boolean reset = c.kind == Kind.RESET_MID_RESPONSE;
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write("GET /stream?chunks=50&ms=5 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                    Raw.Response head = Raw.readHead(x.in);
                    if (head.status() != 200)
                        throw new IOException("stream: " + head.status());
                    if (x.in.read() < 0)
                        throw new IOException("stream: no body");
                    if (reset)
                        x.reset();
                    else
                        x.closeSocket();
                    return 0;
                });
                c.expect(NEW, ACTIVE, CLOSED);
            }
            case MALFORMED ->
            {
                int variant = r.nextInt(5);
                c.variant = "(" + variant + ")";
                String request = switch (variant)
                {
                    case 0 -> "GARBAGE\r\n\r\n";
                    case 1 -> "GET / HTTP/1.1\r\nHost localhost\r\n\r\n";
                    case 2 -> "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n";
                    case 3 -> "GET /\u0001\u00ff HTTP/1.1\r\nHost: localhost\r\n\r\n";
                    default -> GET + "GARBAGE\r\n\r\n";
                };
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write(request);
                    String response = x.readToEnd();
                    String expectedStart = variant == 4 ? "HTTP/1.1 200" : "HTTP/1.1 4";
                    if (!response.startsWith(expectedStart))
                        throw new IOException("malformed: " + response);
                    x.closeSocket();
                    return 0;
                });
                if (variant == 4)
                    c.expect(NEW, ACTIVE, IDLE, ACTIVE, CLOSED);
                else
                    c.expect(NEW, ACTIVE, CLOSED);
            }
            case NOTHING_CLOSE, NOTHING_RESET ->
            {
                boolean reset = c.kind == Kind.NOTHING_RESET;
                c.then(x -> connect(x, plain)).then(x ->
                {
                    if (reset)
                        x.reset();
                    else
                        x.closeSocket();
                    return 0;
                });
                c.expect(NEW, CLOSED);
            }
            case IDLE_NEW, IDLE_AFTER_GET, IDLE_PARTIAL ->
            {
                c.then(x -> connect(x, shortIdle)).then(x ->
                {
                    if (x.kind == Kind.IDLE_AFTER_GET)
                    {
                        x.write(GET);
                        x.expectHello();
                    }
                    else if (x.kind == Kind.IDLE_PARTIAL)
                    {
                        x.write("GET / HTTP/1.1\r\nHost: lo");
                    }
                    // The behaviour is to wait past the idle timeout; the read below waits for the server's close.
                    return MixServer.SHORT_IDLE_MS;
                }).then(x ->
                {
                    long waited = System.nanoTime();
                    String rest = x.readToEnd();
                    if (x.kind != Kind.IDLE_PARTIAL && !rest.isEmpty())
                        throw new IOException("bytes before the idle close: " + rest);
                    x.closeSocket();
                    return 0;
                });
                switch (c.kind)
                {
                    case IDLE_NEW -> c.expect(NEW, CLOSED);
                    case IDLE_AFTER_GET -> c.expect(NEW, ACTIVE, IDLE, CLOSED);
                    default -> c.expect(NEW, ACTIVE, CLOSED);
                }
            }
            case TLS_KEEP_ALIVE ->
            {
                int n = 1 + r.nextInt(3);
                c.variant = "(" + n + ")";
                c.then(x -> connect(x, tls)).then(x ->
                {
                    x.tls(trustAll);
                    for (int i = 0; i < n; i++)
                    {
                        x.write(GET);
                        x.expectHello();
                    }
                    x.closeSocket();
                    return 0;
                });
                c.expected.add(Recorder.keepAlive(n));
            }
            case TLS_PLAINTEXT, TLS_GARBAGE ->
            {
                byte[] bytes = c.kind == Kind.TLS_PLAINTEXT ? GET.getBytes(StandardCharsets.US_ASCII)
                    : new byte[]{0x16, 0x03, 0x01, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
                c.then(x -> connect(x, tls)).then(x ->
                {
                    x.write(bytes);
                    x.readToEnd();
                    x.closeSocket();
                    return 0;
                });
                c.expect(NEW, CLOSED);
            }
            case TLS_UNTRUSTED ->
            {
                c.then(x -> connect(x, tls)).then(x ->
                {
                    try
                    {
                        x.tls(trustNone);
                        throw new IOException("the handshake should have failed");
                    }
                    catch (javax.net.ssl.SSLHandshakeException expected)
                    {
                        x.closeSocket();
                    }
                    return 0;
                });
                c.expect(NEW, CLOSED);
            }
            case H2_OVERLAP, H2C_OVERLAP, H2C_SEQUENTIAL ->
            {
                boolean secure = c.kind == Kind.H2_OVERLAP;
                boolean overlap = c.kind != Kind.H2C_SEQUENTIAL;
                c.then(x ->
                {
                    http2(x, secure ? tls : plain, secure, overlap);
                    return 0;
                });
                if (overlap)
                    c.expect(NEW, ACTIVE, IDLE, CLOSED);
                else
                    c.expect(NEW, ACTIVE, IDLE, ACTIVE, IDLE, CLOSED);
            }
            case H2C_UPGRADE ->
            {
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write(RawH2.upgradeRequest("/"));
                    Raw.Response switching = Raw.read(x.in);
                    if (switching.status() != 101)
                        throw new IOException("h2c upgrade: " + switching.status());
                    x.write(RawH2.PREFACE_AND_SETTINGS);
                    RawH2.readEndOfStream(x.in, 1);
                    x.closeSocket();
                    return 0;
                });
                c.expect(NEW, ACTIVE, IDLE, CLOSED);
            }
            case WEBSOCKET, WEBSOCKET_RESET ->
            {
                boolean reset = c.kind == Kind.WEBSOCKET_RESET;
                c.then(x -> connect(x, plain)).then(x ->
                {
                    x.write("GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
                    Raw.Response switching = Raw.read(x.in);
                    if (switching.status() != 101)
                        throw new IOException("websocket: " + switching.status());
                    if (reset)
                    {
                        x.reset();
                        return 0;
                    }
                    x.write(maskedFrame(0x1, "hi".getBytes(StandardCharsets.US_ASCII)));
                    int[] echo = readWsFrame(x.in);
                    if (echo[0] != 0x1)
                        throw new IOException("websocket echo: opcode " + echo[0]);
                    x.write(maskedFrame(0x8, new byte[]{0x03, (byte)0xe8}));
                    while (readWsFrame(x.in)[0] != 0x8)
                    {
                    }
                    x.readToEnd();
                    x.closeSocket();
                    return 0;
                });
                c.expect(NEW, ACTIVE, HIJACKED);
            }
        }
    }

    private static long connect(Conn c, int port) throws IOException
    {
        c.connect(port);
        return 0;
    }

    // ---- HTTP/2 with Jetty's client ----

    private void http2(Conn c, int port, boolean secure, boolean overlap) throws Exception
    {
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Session.Listener listener = new Session.Listener()
        {
            @Override
            public void onClose(Session session, GoAwayFrame frame, Callback callback)
            {
                closed.complete(null);
                callback.succeeded();
            }

            @Override
            public void onFailure(Session session, Throwable failure, Callback callback)
            {
                closed.complete(null);
                callback.succeeded();
            }
        };
        InetSocketAddress address = new InetSocketAddress("127.0.0.1", port);
        CompletableFuture<Session> connecting = secure ? h2.connect(h2.getClientConnector().getSslContextFactory(), address, listener) : h2.connect(address, listener);
        Session session = connecting.get(SO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        c.session = session;
        c.connected((InetSocketAddress)session.getLocalSocketAddress(), port);
        String scheme = secure ? "https" : "http";
        if (overlap)
        {
            String key = "g" + gateKeys.incrementAndGet();
            List<CompletableFuture<Void>> streams = new ArrayList<>();
            for (int i = 0; i < 3; i++)
                streams.add(stream(session, scheme, port, "/gate?n=3&k=" + key));
            CompletableFuture.allOf(streams.toArray(CompletableFuture[]::new)).get(SO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        else
        {
            for (int i = 0; i < 2; i++)
                stream(session, scheme, port, "/").get(SO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }
        session.close(ErrorCode.NO_ERROR.code, "done", Callback.NOOP);
        closed.get(SO_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    }

    private static CompletableFuture<Void> stream(Session session, String scheme, int port, String path)
    {
        CompletableFuture<Void> done = new CompletableFuture<>();
        MetaData.Request request = new MetaData.Request("GET", HttpURI.from(scheme + "://127.0.0.1:" + port + path), HttpVersion.HTTP_2, HttpFields.EMPTY);
        session.newStream(new HeadersFrame(request, null, true), new Stream.Listener()
        {
            @Override
            public void onHeaders(Stream stream, HeadersFrame frame)
            {
                if (frame.getMetaData() instanceof MetaData.Response response && response.getStatus() != 200)
                    done.completeExceptionally(new IOException("h2 status " + response.getStatus()));
                if (frame.isEndStream())
                    done.complete(null);
                else
                    stream.demand();
            }

            @Override
            public void onDataAvailable(Stream stream)
            {
                while (true)
                {
                    Stream.Data data = stream.readData();
                    if (data == null)
                    {
                        stream.demand();
                        return;
                    }
                    data.release();
                    if (data.frame().isEndStream())
                    {
                        done.complete(null);
                        return;
                    }
                }
            }

            @Override
            public void onReset(Stream stream, ResetFrame frame, Callback callback)
            {
                done.completeExceptionally(new IOException("h2 stream reset " + frame.getError()));
                callback.succeeded();
            }

            @Override
            public void onFailure(Stream stream, int error, String reason, Throwable failure, Callback callback)
            {
                done.completeExceptionally(failure);
                callback.succeeded();
            }
        }).whenComplete((stream, x) ->
        {
            if (x != null)
                done.completeExceptionally(x);
        });
        return done;
    }

    // ---- raw frames ----

    static byte[] maskedFrame(int opcode, byte[] payload)
    {
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.length);
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++)
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        return frame;
    }

    /** Reads one (unmasked, short) server frame; returns its opcode and payload length. */
    static int[] readWsFrame(InputStream in) throws IOException
    {
        DataInputStream data = new DataInputStream(in);
        int opcode = data.readUnsignedByte() & 0x0f;
        int length = data.readUnsignedByte() & 0x7f;
        if (length == 126)
            length = data.readUnsignedShort();
        data.skipNBytes(length);
        return new int[]{opcode, length};
    }

    // ---- verification ----

    /** How the server's sequences compare with what the clients did. */
    static final class Verdict
    {
        final List<String> mismatches = new ArrayList<>();
        int compared;
        int unmatchedClients;
        int unmatchedServer;
        final Map<String, Integer> alternatives = new TreeMap<>();

        boolean ok()
        {
            return mismatches.isEmpty() && unmatchedClients == 0 && unmatchedServer == 0;
        }

        @Override
        public String toString()
        {
            return "compared=" + compared + " unmatchedClients=" + unmatchedClients + " unmatchedServer=" + unmatchedServer +
                " mismatches=" + mismatches.size() + (mismatches.isEmpty() ? "" : " first: " + mismatches.subList(0, Math.min(20, mismatches.size())));
        }
    }

    /**
     * Pairs every client connection with the server's connection between the same ports (the
     * client's port and the server's: Linux shares an ephemeral port between connections to
     * different server ports; in connect order when a pair was reused) and compares the sequences.
     *
     * @param server the sequences the server reported, by id
     */
    static Verdict verify(List<Conn> conns, Map<Long, Recorder.Connection> server)
    {
        Verdict verdict = new Verdict();
        Map<Long, List<Conn>> clientsByPort = new HashMap<>();
        for (Conn c : conns)
        {
            if (c.local != null)
                clientsByPort.computeIfAbsent(ports(c.local.getPort(), c.serverPort), p -> new ArrayList<>()).add(c);
        }
        Map<Long, List<Recorder.Connection>> serverByPort = new HashMap<>();
        for (Recorder.Connection e : server.values())
            serverByPort.computeIfAbsent(e.remote == null ? -1 : ports(e.remote.getPort(), e.localPort), p -> new ArrayList<>()).add(e);
        for (Map.Entry<Long, List<Conn>> byPort : clientsByPort.entrySet())
        {
            List<Conn> clients = byPort.getValue();
            clients.sort((a, b) -> Long.compare(a.connectedNanos, b.connectedNanos));
            List<Recorder.Connection> entries = serverByPort.getOrDefault(byPort.getKey(), List.of());
            entries.sort((a, b) -> Long.compare(a.id, b.id));
            for (int i = 0; i < clients.size(); i++)
            {
                Conn c = clients.get(i);
                if (i >= entries.size())
                {
                    verdict.unmatchedClients++;
                    verdict.mismatches.add(c + ": the server reported no connection");
                    continue;
                }
                Recorder.Connection e = entries.get(i);
                List<ConnState> actual = e.states();
                verdict.compared++;
                if (!c.expected.contains(actual))
                    verdict.mismatches.add(c + " server #" + e.id + ": expected " + (c.expected.size() == 1 ? c.expected.get(0) : "one of " + c.expected) + " but was " + actual);
                else if (c.expected.size() > 1)
                    verdict.alternatives.merge(c.kind + " " + actual, 1, Integer::sum);
            }
            if (entries.size() > clients.size())
            {
                verdict.unmatchedServer += entries.size() - clients.size();
                verdict.mismatches.add("server connections " + (byPort.getKey() >> 16) + "->" + (byPort.getKey() & 0xffff) + " that no client opened: " + entries.subList(clients.size(), entries.size()).stream().map(e -> "#" + e.id + e.states()).toList());
            }
        }
        for (Map.Entry<Long, List<Recorder.Connection>> byPort : serverByPort.entrySet())
        {
            if (!clientsByPort.containsKey(byPort.getKey()))
            {
                verdict.unmatchedServer += byPort.getValue().size();
                verdict.mismatches.add("server connections " + (byPort.getKey() >> 16) + "->" + (byPort.getKey() & 0xffff) + " that no client opened: " + byPort.getValue().stream().map(e -> "#" + e.id + e.states()).toList());
            }
        }
        return verdict;
    }

    private static long ports(int clientPort, int serverPort)
    {
        return ((long)clientPort << 16) | serverPort;
    }

    static Set<Kind> kinds()
    {
        return Set.of(Kind.values());
    }
}
