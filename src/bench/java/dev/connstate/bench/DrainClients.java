package dev.connstate.bench;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpURI;
import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.http.MetaData;
import org.eclipse.jetty.http2.ErrorCode;
import org.eclipse.jetty.http2.RetryableStreamException;
import org.eclipse.jetty.http2.api.Session;
import org.eclipse.jetty.http2.api.Stream;
import org.eclipse.jetty.http2.client.HTTP2Client;
import org.eclipse.jetty.http2.frames.GoAwayFrame;
import org.eclipse.jetty.http2.frames.HeadersFrame;
import org.eclipse.jetty.http2.frames.ResetFrame;
import org.eclipse.jetty.util.Callback;

/**
 * The clients of one {@link DrainBench} round, without retries, and what they saw, counted by
 * kind: HTTP/1.1 keep-alive connections on raw sockets (each byte seen), and h2c sessions with
 * concurrent streams on Jetty's low-level {@link HTTP2Client} (GOAWAY and resets seen).
 *
 * <p>Each HTTP/1.1 connection sends one request at a time, in a loop, and before it reuses the
 * connection checks without blocking whether the server closed it, as a pooled client does; a
 * connection closed (by either side) is replaced by a new one. Each h2c session keeps its
 * streams going until it receives a GOAWAY or closes, then lets its streams in flight end and
 * connects again. A refused connect is tried again after {@code retryMillis}. Once
 * {@link #serverGone()} is called, each client ends when its connection is gone.</p>
 */
final class DrainClients
{
    /** What a request (or a connect) came to; the last few only inform. */
    enum Kind
    {
        OK_H1, OK_H2,
        S503_H1, S503_H2,
        OTHER_STATUS,
        NO_RESPONSE_H1_REUSED, NO_RESPONSE_H1_NEW, NO_RESPONSE_H2,
        CUT_H1, CUT_H2,
        REFUSED_STREAM, REFUSED_CONNECT,
        /** A client error (the bench's, not the server's): should stay 0. */
        CLIENT_ERROR,
        /** An OK response to a request sent after the SIGTERM. */
        OK_AFTER_STOP,
        /** A response carrying {@code Connection: close}. */
        CONNECTION_CLOSE,
        /** An HTTP/1.1 connection the server had closed when the client checked it before reuse. */
        CLOSED_BEFORE_REUSE,
        /** A GOAWAY frame received. */
        GOAWAY,
        /** An h2c stream not sent, its session already closing. */
        H2_NOT_SENT
    }

    /**
     * A failure, or a note ({@code kind} null), as a client saw it, with its times
     * ({@link System#nanoTime()}, 0 if none): when it was seen, when its request was sent, and for
     * an HTTP/1.1 request on a reused connection, when the server committed the previous response
     * (its {@value DrainServer#COMMIT_NANOS}) and when its end arrived.
     */
    record Event(Kind kind, long atNanos, long sentNanos, long previousCommitNanos, long previousEndNanos, String what)
    {
    }

    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};

    private final InetSocketAddress address;
    private final int h1Connections;
    private final int h2Sessions;
    private final int h2Streams;
    private final long retryMillis;
    private final AtomicLongArray counts = new AtomicLongArray(Kind.values().length);
    private final Queue<Event> events = new ConcurrentLinkedQueue<>();
    private final Set<SocketChannel> channels = ConcurrentHashMap.newKeySet();
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch done;
    private final HTTP2Client h2client = new HTTP2Client();
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r ->
    {
        Thread thread = new Thread(r, "drain-retry");
        thread.setDaemon(true);
        return thread;
    });
    /** When the SIGTERM was sent; 0 before. */
    private volatile long stopNanos;
    private volatile boolean gone;
    private volatile boolean closing;

    DrainClients(int port, int h1Connections, int h2Sessions, int h2Streams, long retryMillis)
    {
        this.address = new InetSocketAddress("127.0.0.1", port);
        this.h1Connections = h1Connections;
        this.h2Sessions = h2Sessions;
        this.h2Streams = h2Streams;
        this.retryMillis = retryMillis;
        this.done = new CountDownLatch(h1Connections + h2Sessions);
    }

    void start() throws Exception
    {
        h2client.start();
        for (int i = 0; i < h1Connections; i++)
        {
            Thread thread = new Thread(this::h1Loop, "drain-h1-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
        for (int i = 0; i < h2Sessions; i++)
            new H2Slot().connect();
    }

    /** The SIGTERM is being sent now: later requests count as sent during the stop. */
    void stopSent(long nanos)
    {
        stopNanos = nanos;
    }

    /** The server process exited: each client ends once its connection is gone. */
    void serverGone()
    {
        gone = true;
    }

    /** @return whether every client ended within the time */
    boolean awaitDone(long millis) throws InterruptedException
    {
        return done.await(millis, TimeUnit.MILLISECONDS);
    }

    long count(Kind kind)
    {
        return counts.get(kind.ordinal());
    }

    /** @return the failures and notes, in the order they were seen */
    List<Event> events()
    {
        return List.copyOf(events);
    }

    private void increment(Kind kind)
    {
        counts.incrementAndGet(kind.ordinal());
    }

    private void fail(Kind kind, long sentNanos, String what)
    {
        fail(kind, sentNanos, 0, 0, what);
    }

    private void fail(Kind kind, long sentNanos, long previousCommitNanos, long previousEndNanos, String what)
    {
        increment(kind);
        events.add(new Event(kind, System.nanoTime(), sentNanos, previousCommitNanos, previousEndNanos, what));
    }

    /** Something worth knowing beside the failures (a GOAWAY, a session's close), for the record. */
    private void note(String what)
    {
        events.add(new Event(null, System.nanoTime(), 0, 0, 0, what));
    }

    private boolean afterStop(long nanos)
    {
        long stop = stopNanos;
        return stop != 0 && nanos - stop >= 0;
    }

    private static void pause(long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (InterruptedException x)
        {
            Thread.currentThread().interrupt();
        }
    }

    // ---- HTTP/1.1 on raw sockets ----

    /**
     * What one exchange on an HTTP/1.1 connection came to: whether the connection may serve
     * another, when the server committed the response and when its end arrived.
     */
    private record Exchange(boolean keep, long commitNanos, long endNanos)
    {
    }

    private void h1Loop()
    {
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        SocketChannel channel = null;
        int served = 0;
        Exchange previous = null;
        try
        {
            while (!closing && !Thread.currentThread().isInterrupted())
            {
                if (channel == null)
                {
                    if (gone)
                        return;
                    try
                    {
                        channel = SocketChannel.open();
                        channels.add(channel);
                        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                        channel.connect(address);
                        served = 0;
                    }
                    catch (ConnectException x)
                    {
                        increment(Kind.REFUSED_CONNECT);
                        channel = close(channel);
                        pause(retryMillis);
                        continue;
                    }
                    catch (IOException x)
                    {
                        fail(Kind.CLIENT_ERROR, 0, "connect: " + x);
                        channel = close(channel);
                        pause(retryMillis);
                        continue;
                    }
                }
                else if (closedByServer(channel))
                {
                    increment(Kind.CLOSED_BEFORE_REUSE);
                    channel = close(channel);
                    continue;
                }
                Exchange exchange = exchange(channel, buffer, served == 0 ? null : previous);
                if (exchange == null || !exchange.keep())
                {
                    channel = close(channel);
                    continue;
                }
                served++;
                previous = exchange;
            }
        }
        finally
        {
            close(channel);
            done.countDown();
        }
    }

    private SocketChannel close(SocketChannel channel)
    {
        if (channel != null)
        {
            channels.remove(channel);
            try
            {
                channel.close();
            }
            catch (IOException ignored)
            {
                // Closing what is already broken.
            }
        }
        return null;
    }

    /**
     * A pooled client's check before it reuses a connection: a read that does not block sees
     * the server's FIN (end of stream) or reset, if either has arrived.
     */
    private boolean closedByServer(SocketChannel channel)
    {
        ByteBuffer probe = ByteBuffer.allocate(1);
        try
        {
            channel.configureBlocking(false);
            int read = channel.read(probe);
            if (read > 0)
                fail(Kind.CLIENT_ERROR, 0, "a byte arrived between requests");
            return read != 0;
        }
        catch (IOException x)
        {
            return true;
        }
        finally
        {
            try
            {
                if (channel.isOpen())
                    channel.configureBlocking(true);
            }
            catch (IOException ignored)
            {
                // The next write fails and says so.
            }
        }
    }

    /**
     * Sends one request and reads its response.
     *
     * @param previous the previous exchange on this connection, {@code null} on a new connection
     * @return what came of it, {@code null} if the connection is unusable
     */
    private Exchange exchange(SocketChannel channel, ByteBuffer buffer, Exchange previous)
    {
        long sent = System.nanoTime();
        try
        {
            ByteBuffer request = ByteBuffer.wrap("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            while (request.hasRemaining())
                channel.write(request);
        }
        catch (IOException x)
        {
            noResponseOrCut(buffer.clear(), null, "write failed (" + x + ")", sent, previous);
            return null;
        }
        buffer.clear();
        Response response = null;
        try
        {
            while (true)
            {
                int read = channel.read(buffer);
                if (read < 0)
                {
                    noResponseOrCut(buffer, response, "end of stream", sent, previous);
                    return null;
                }
                if (response == null)
                    response = Response.parseHead(buffer);
                if (response != null && response.complete(buffer))
                    break;
                if (!buffer.hasRemaining())
                {
                    fail(Kind.CLIENT_ERROR, sent, "response larger than " + buffer.capacity() + " bytes");
                    return null;
                }
            }
        }
        catch (IOException x)
        {
            noResponseOrCut(buffer, response, String.valueOf(x), sent, previous);
            return null;
        }
        long ended = System.nanoTime();
        if (response.close)
            increment(Kind.CONNECTION_CLOSE);
        if (response.status == 200 && response.bodyLength == DrainServer.BODY_BYTES)
        {
            increment(Kind.OK_H1);
            if (afterStop(sent))
                increment(Kind.OK_AFTER_STOP);
        }
        else if (response.status == 503)
            increment(Kind.S503_H1);
        else
            fail(Kind.OTHER_STATUS, sent, response.status + " with " + response.bodyLength + " bytes");
        return new Exchange(!response.close, response.commitNanos, ended);
    }

    private void noResponseOrCut(ByteBuffer buffer, Response response, String how, long sent, Exchange previous)
    {
        long previousCommit = previous == null ? 0 : previous.commitNanos();
        long previousEnd = previous == null ? 0 : previous.endNanos();
        if (buffer.position() == 0)
            fail(previous == null ? Kind.NO_RESPONSE_H1_NEW : Kind.NO_RESPONSE_H1_REUSED, sent, previousCommit, previousEnd, how + " before a byte of the response");
        else
            fail(Kind.CUT_H1, sent, previousCommit, previousEnd, how + " after " + buffer.position() + " bytes" + (response == null ? " (head incomplete)" : " (status " + response.status + ")"));
    }

    /** An HTTP/1.1 response head, and whether its body is complete in the buffer. */
    private static final class Response
    {
        private final int status;
        private final int bodyStart;
        private final long contentLength;
        private final boolean chunked;
        private final boolean close;
        /** When the server committed it, 0 if it did not say (a 503 of Jetty's). */
        private final long commitNanos;
        private long bodyLength;

        private Response(int status, int bodyStart, long contentLength, boolean chunked, boolean close, long commitNanos)
        {
            this.commitNanos = commitNanos;
            this.status = status;
            this.bodyStart = bodyStart;
            this.contentLength = contentLength;
            this.chunked = chunked;
            this.close = close;
        }

        /** @return the head, if the buffer (written up to its position) holds all of it */
        static Response parseHead(ByteBuffer buffer)
        {
            byte[] bytes = buffer.array();
            int end = indexOf(bytes, 0, buffer.position(), HEAD_END);
            if (end < 0)
                return null;
            String[] lines = new String(bytes, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
            int status = Integer.parseInt(lines[0].substring(9, 12));
            long contentLength = -1;
            boolean chunked = false;
            boolean close = false;
            long commitNanos = 0;
            for (int i = 1; i < lines.length; i++)
            {
                int colon = lines[i].indexOf(':');
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim().toLowerCase(Locale.ROOT);
                switch (name)
                {
                    case "content-length" -> contentLength = Long.parseLong(value);
                    case "transfer-encoding" -> chunked = value.contains("chunked");
                    case "connection" -> close = value.contains("close");
                    case "x-commit-nanos" -> commitNanos = Long.parseLong(value);
                    default -> { }
                }
            }
            return new Response(status, end + HEAD_END.length, contentLength, chunked, close, commitNanos);
        }

        /** @return whether the whole body is in the buffer; its length is then known */
        boolean complete(ByteBuffer buffer)
        {
            int limit = buffer.position();
            if (chunked)
                return chunksComplete(buffer.array(), limit);
            // Without a length the body runs to the end of the stream (never in this bench).
            if (contentLength < 0)
                return false;
            bodyLength = limit - bodyStart;
            return bodyLength >= contentLength;
        }

        private boolean chunksComplete(byte[] bytes, int limit)
        {
            int at = bodyStart;
            long length = 0;
            while (true)
            {
                int lineEnd = indexOf(bytes, at, limit, new byte[]{'\r', '\n'});
                if (lineEnd < 0)
                    return false;
                String size = new String(bytes, at, lineEnd - at, StandardCharsets.ISO_8859_1);
                int semicolon = size.indexOf(';');
                int chunk = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
                at = lineEnd + 2;
                if (chunk == 0)
                {
                    // No trailers: the empty line ends the body.
                    if (limit - at < 2)
                        return false;
                    bodyLength = length;
                    return true;
                }
                if (limit - at < chunk + 2)
                    return false;
                length += chunk;
                at += chunk + 2;
            }
        }

        private static int indexOf(byte[] bytes, int from, int to, byte[] what)
        {
            for (int i = from; i <= to - what.length; i++)
            {
                int j = 0;
                while (j < what.length && bytes[i + j] == what[j])
                    j++;
                if (j == what.length)
                    return i;
            }
            return -1;
        }
    }

    // ---- h2c on Jetty's HTTP2Client ----

    /** One h2c client: a session at a time, its streams kept going until a GOAWAY or its close. */
    private final class H2Slot
    {
        void connect()
        {
            if (gone || closing)
            {
                done.countDown();
                return;
            }
            H2Session state = new H2Session(this);
            h2client.connect(address, state).whenComplete((session, failure) ->
            {
                if (failure != null)
                {
                    if (failure instanceof ConnectException)
                        increment(Kind.REFUSED_CONNECT);
                    else
                        fail(Kind.CLIENT_ERROR, 0, "h2c connect: " + failure);
                    retries.schedule(this::connect, retryMillis, TimeUnit.MILLISECONDS);
                    return;
                }
                for (int i = 0; i < h2Streams; i++)
                    state.newStream(session);
            });
        }
    }

    /** One h2c session: its streams in flight, and whether it may take more. */
    private final class H2Session implements Session.Listener
    {
        private final H2Slot slot;
        private final AtomicInteger inFlight = new AtomicInteger();
        private final Set<H2Request> requests = ConcurrentHashMap.newKeySet();
        private final AtomicBoolean replaced = new AtomicBoolean();
        private volatile boolean goAway;
        private volatile boolean closed;

        private H2Session(H2Slot slot)
        {
            this.slot = slot;
        }

        void newStream(Session session)
        {
            if (goAway || closed || closing)
            {
                replaceWhenIdle();
                return;
            }
            inFlight.incrementAndGet();
            H2Request request = new H2Request(this);
            requests.add(request);
            MetaData.Request head = new MetaData.Request("GET", HttpURI.from("http://" + address.getHostString() + ":" + address.getPort() + "/"), HttpVersion.HTTP_2, HttpFields.EMPTY);
            session.newStream(new HeadersFrame(head, null, true), request).whenComplete((stream, failure) ->
            {
                if (failure != null && request.counted.compareAndSet(false, true))
                {
                    // The stream never left: its session was closing. Not a request the server saw.
                    increment(Kind.H2_NOT_SENT);
                    ended(session, request);
                }
            });
        }

        /** A stream ended, however: the next one starts, or the session is replaced once none is left. */
        void ended(Session session, H2Request request)
        {
            requests.remove(request);
            if (!goAway && !closed && !closing)
                newStream(session);
            inFlight.decrementAndGet();
            replaceWhenIdle();
        }

        private void replaceWhenIdle()
        {
            if ((goAway || closed || closing) && inFlight.get() == 0 && replaced.compareAndSet(false, true))
                slot.connect();
        }

        @Override
        public void onGoAway(Session session, GoAwayFrame frame)
        {
            increment(Kind.GOAWAY);
            note("GOAWAY " + frame + " on " + session.getLocalSocketAddress() + ", " + inFlight.get() + " streams in flight");
            goAway = true;
            replaceWhenIdle();
        }

        @Override
        public void onClose(Session session, GoAwayFrame frame, Callback callback)
        {
            closed = true;
            note("h2c session " + session.getLocalSocketAddress() + " closed (" + frame + "), " + inFlight.get() + " streams in flight");
            // Jetty fails the streams before it closes the session; a stream whose end arrived may
            // still be delivering its data. Any left a while later were never told.
            retries.schedule(() ->
            {
                for (H2Request request : requests)
                    request.failed(session, false, "its session closed (" + frame + ") and it was never told");
            }, 1, TimeUnit.SECONDS);
            replaceWhenIdle();
            callback.succeeded();
        }

        @Override
        public void onFailure(Session session, Throwable failure, Callback callback)
        {
            closed = true;
            note("h2c session " + session.getLocalSocketAddress() + " failed (" + failure + "), " + inFlight.get() + " streams in flight");
            replaceWhenIdle();
            callback.succeeded();
        }
    }

    /** One h2c request: its response as it arrives, counted once. */
    private final class H2Request implements Stream.Listener
    {
        private final H2Session owner;
        private final long sentNanos = System.nanoTime();
        private final AtomicBoolean counted = new AtomicBoolean();
        private volatile int status;
        private volatile long bodyLength;

        private H2Request(H2Session owner)
        {
            this.owner = owner;
        }

        @Override
        public void onHeaders(Stream stream, HeadersFrame frame)
        {
            if (frame.getMetaData() instanceof MetaData.Response response)
                status = response.getStatus();
            if (frame.isEndStream())
                completed(stream.getSession());
            else
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
            bodyLength += data.frame().remaining();
            boolean last = data.frame().isEndStream();
            data.release();
            if (last)
                completed(stream.getSession());
            else
                stream.demand();
        }

        @Override
        public void onReset(Stream stream, ResetFrame frame, Callback callback)
        {
            boolean refused = frame.getError() == ErrorCode.REFUSED_STREAM_ERROR.code;
            failed(stream.getSession(), refused, "stream " + stream.getId() + " reset (" + ErrorCode.toString(frame.getError(), "?") + ")");
            callback.succeeded();
        }

        @Override
        public void onFailure(Stream stream, int error, String reason, Throwable failure, Callback callback)
        {
            // Jetty fails the streams above a GOAWAY's last-stream-id with this: never processed.
            failed(stream.getSession(), failure instanceof RetryableStreamException, "stream " + stream.getId() + " failed (" + ErrorCode.toString(error, "?") + ", " + reason + ", " + failure + ")");
            callback.succeeded();
        }

        private void completed(Session session)
        {
            if (!counted.compareAndSet(false, true))
                return;
            if (status == 200 && bodyLength == DrainServer.BODY_BYTES)
            {
                increment(Kind.OK_H2);
                if (afterStop(sentNanos))
                    increment(Kind.OK_AFTER_STOP);
            }
            else if (status == 503)
                increment(Kind.S503_H2);
            else
                fail(Kind.OTHER_STATUS, sentNanos, "h2c " + status + " with " + bodyLength + " bytes");
            owner.ended(session, this);
        }

        /** @param refused whether the server never processed it (above a GOAWAY's last-stream-id, or REFUSED_STREAM) */
        void failed(Session session, boolean refused, String what)
        {
            if (!counted.compareAndSet(false, true))
                return;
            if (refused)
                increment(Kind.REFUSED_STREAM);
            else if (status == 0)
                fail(Kind.NO_RESPONSE_H2, sentNanos, what + ", no response");
            else
                fail(Kind.CUT_H2, sentNanos, what + ", status " + status + " and " + bodyLength + " bytes of the body");
            owner.ended(session, this);
        }
    }

    /** Ends every client now: their sockets closed, their threads joined, the HTTP/2 client stopped. */
    void close() throws Exception
    {
        closing = true;
        gone = true;
        for (SocketChannel channel : channels)
            close(channel);
        for (Thread thread : threads)
            thread.join(5000);
        retries.shutdownNow();
        h2client.stop();
    }
}
