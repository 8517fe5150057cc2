package dev.connstate.bench;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.LockSupport;

/**
 * The legitimate client of {@link AttackBench}, from 127.0.0.1 (the default source address), on
 * plain blocking sockets, a thread per connection, no retries:
 * <ul>
 *   <li>{@link Load#KEEP_ALIVE}: {@code keepAlive} HTTP/1.1 connections, each sending
 *   {@code GET /} at a fixed rate and reading the response whole, reused until something fails
 *   (then connected again, for the next request);</li>
 *   <li>{@link Load#NEW_CONNECTION}: {@code newConnections} threads, each connecting, sending
 *   {@code GET /} with {@code Connection: close}, reading the response (its Content-Length) and
 *   closing, at a fixed rate.</li>
 * </ul>
 * <p>The rate is fixed (open loop): request i of a thread is due at {@code t0 + i * interval}, and
 * its latency runs from then to the end of its response, so that a request held up (a connect
 * waiting for the server's accept queue, say) also delays the ones due after it on that thread,
 * as it would for the users behind it. A request that fails is an error, by kind: the connect
 * refused or timed out ({@code connectTimeoutMillis}), no response at all (end of stream, reset),
 * a response cut short, no answer within {@code readTimeoutMillis}, a status other than 200.
 * Only requests due within [{@code measureFrom}, {@code measureTo}) are counted; one that its
 * thread, behind schedule, had not sent by {@code measureTo} is counted apart as unsent (the
 * attack ends then: sent later, it would be served by a server no longer attacked). The time of
 * the exchange alone (from the send, or the connect) is kept beside the latency.</p>
 */
final class LegitLoad
{
    enum Load
    {
        KEEP_ALIVE("keep-alive"), NEW_CONNECTION("new connection per request");

        final String title;

        Load(String title)
        {
            this.title = title;
        }
    }

    /**
     * What one load did in the measured window.
     *
     * @param latencies the OK responses' latencies from when they were due, sorted, nanoseconds
     * @param exchanges the same from when they were sent (the connect for a new connection), sorted
     * @param errors failed requests by kind
     * @param unsent requests due in the window that their thread had not sent when the window ended (it was still waiting on earlier ones)
     * @param okPerSecond OK responses by the second of the window in which they completed (the last second also takes those completed after it)
     */
    record Result(long[] latencies, long[] exchanges, Map<String, Long> errors, long unsent, long[] okPerSecond)
    {
        /** @return OK responses completed in seconds [from, to) of the window */
        long ok(int from, int to)
        {
            long n = 0;
            for (int s = from; s < Math.min(to, okPerSecond.length); s++)
                n += okPerSecond[s];
            return n;
        }

        long ok()
        {
            return latencies.length;
        }

        long errorCount()
        {
            return errors.values().stream().mapToLong(Long::longValue).sum();
        }

        /** @return the p-th percentile (nearest rank) of the OK responses' latencies, nanoseconds; -1 if none */
        long percentile(double p)
        {
            return percentile(latencies, p);
        }

        /** @return the p-th percentile of the OK responses' times from their send, nanoseconds; -1 if none */
        long exchangePercentile(double p)
        {
            return percentile(exchanges, p);
        }

        private static long percentile(long[] sorted, double p)
        {
            if (sorted.length == 0)
                return -1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, (int)Math.ceil(sorted.length * p / 100) - 1))];
        }

        String errorText()
        {
            if (errors.isEmpty())
                return "0";
            StringBuilder text = new StringBuilder().append(errorCount()).append(" (");
            errors.forEach((kind, n) -> text.append(kind).append(' ').append(n).append(", "));
            text.setLength(text.length() - 2);
            return text.append(')').toString();
        }

        static Result merge(List<Result> results)
        {
            long[] all = results.stream().flatMapToLong(r -> Arrays.stream(r.latencies())).sorted().toArray();
            long[] exchanges = results.stream().flatMapToLong(r -> Arrays.stream(r.exchanges())).sorted().toArray();
            Map<String, Long> errors = new TreeMap<>();
            for (Result r : results)
                r.errors().forEach((k, v) -> errors.merge(k, v, Long::sum));
            long[] perSecond = new long[results.stream().mapToInt(r -> r.okPerSecond().length).max().orElse(0)];
            for (Result r : results)
            {
                for (int s = 0; s < r.okPerSecond().length; s++)
                    perSecond[s] += r.okPerSecond()[s];
            }
            return new Result(all, exchanges, errors, results.stream().mapToLong(Result::unsent).sum(), perSecond);
        }
    }

    private static final byte[] KEEP_ALIVE_REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE_REQUEST = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    private final InetSocketAddress server;
    private final int connectTimeoutMillis;
    private final int readTimeoutMillis;
    private final long t0;
    private final long measureFrom;
    private final long measureTo;
    private final List<Worker> workers = new ArrayList<>();

    /**
     * @param keepAliveRate requests per second on each keep-alive connection
     * @param newRate connections (requests) per second of each new-connection thread
     */
    LegitLoad(InetSocketAddress server, int keepAlive, double keepAliveRate, int newConnections, double newRate, int connectTimeoutMillis, int readTimeoutMillis,
              long t0, long measureFrom, long measureTo)
    {
        this.server = server;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.readTimeoutMillis = readTimeoutMillis;
        this.t0 = t0;
        this.measureFrom = measureFrom;
        this.measureTo = measureTo;
        for (int i = 0; i < keepAlive; i++)
            workers.add(new Worker(Load.KEEP_ALIVE, (long)(1e9 / keepAliveRate), i * (long)(1e9 / keepAliveRate) / keepAlive));
        for (int i = 0; i < newConnections; i++)
            workers.add(new Worker(Load.NEW_CONNECTION, (long)(1e9 / newRate), i * (long)(1e9 / newRate) / newConnections));
    }

    void start()
    {
        for (Worker w : workers)
            w.thread.start();
    }

    /** Waits for every thread (each ends after its last due request, or its timeouts); the results by load. */
    Map<Load, Result> await() throws InterruptedException
    {
        Map<Load, List<Result>> byLoad = new TreeMap<>();
        for (Worker w : workers)
        {
            w.thread.join();
            byLoad.computeIfAbsent(w.load, l -> new ArrayList<>()).add(new Result(Arrays.copyOf(w.latencies, w.count), Arrays.copyOf(w.exchanges, w.count), w.errors, w.unsent, w.okPerSecond));
        }
        Map<Load, Result> results = new TreeMap<>();
        byLoad.forEach((load, list) -> results.put(load, Result.merge(list)));
        return results;
    }

    private final class Worker implements Runnable
    {
        final Load load;
        final long intervalNanos;
        final long offsetNanos;
        final Thread thread;
        long[] latencies = new long[1024];
        long[] exchanges = new long[1024];
        int count;
        long unsent;
        final long[] okPerSecond = new long[(int)Math.max(1, (measureTo - measureFrom + 999_999_999) / 1_000_000_000)];
        final Map<String, Long> errors = new TreeMap<>();
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        Worker(Load load, long intervalNanos, long offsetNanos)
        {
            this.load = load;
            this.intervalNanos = intervalNanos;
            this.offsetNanos = offsetNanos;
            this.thread = new Thread(this, "legit-" + load.name().toLowerCase(Locale.ROOT) + "-" + workers.size());
            this.thread.setDaemon(true);
        }

        @Override
        public void run()
        {
            for (long i = 0; ; i++)
            {
                long due = t0 + offsetNanos + i * intervalNanos;
                if (due - measureTo >= 0)
                    break;
                for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime())
                    LockSupport.parkNanos(wait);
                long sent = System.nanoTime();
                if (sent - measureTo >= 0)
                {
                    // Behind schedule at the end of the window: what is left was never sent in it.
                    if (due - measureFrom >= 0)
                        unsent++;
                    continue;
                }
                String error = load == Load.KEEP_ALIVE ? keepAliveRequest() : newConnectionRequest();
                long done = System.nanoTime();
                if (due - measureFrom < 0)
                    continue;
                if (error == null)
                {
                    if (count == latencies.length)
                    {
                        latencies = Arrays.copyOf(latencies, count * 2);
                        exchanges = Arrays.copyOf(exchanges, count * 2);
                    }
                    latencies[count] = done - due;
                    exchanges[count++] = done - sent;
                    okPerSecond[(int)Math.max(0, Math.min(okPerSecond.length - 1, (done - measureFrom) / 1_000_000_000))]++;
                }
                else
                    errors.merge(error, 1L, Long::sum);
            }
            close();
        }

        private String keepAliveRequest()
        {
            if (socket == null)
            {
                String error = connect();
                if (error != null)
                    return error;
            }
            String error = exchange(KEEP_ALIVE_REQUEST);
            if (error != null)
                close();
            return error;
        }

        private String newConnectionRequest()
        {
            String error = connect();
            if (error != null)
                return error;
            error = exchange(CLOSE_REQUEST);
            close();
            return error;
        }

        private String connect()
        {
            Socket s = new Socket();
            try
            {
                s.setTcpNoDelay(true);
                s.connect(server, connectTimeoutMillis);
                s.setSoTimeout(readTimeoutMillis);
                socket = s;
                in = new BufferedInputStream(s.getInputStream(), 4096);
                out = s.getOutputStream();
                return null;
            }
            catch (SocketTimeoutException x)
            {
                closeQuietly(s);
                return "connect timeout";
            }
            catch (ConnectException x)
            {
                closeQuietly(s);
                return "connect refused";
            }
            catch (IOException x)
            {
                closeQuietly(s);
                return "connect: " + x.getClass().getSimpleName();
            }
        }

        /** @return null if a complete 200 response came, else the kind of failure */
        private String exchange(byte[] request)
        {
            boolean any = false;
            try
            {
                out.write(request);
                out.flush();
                String status = line();
                any = true;
                long length = -1;
                boolean chunked = false;
                for (String header = line(); !header.isEmpty(); header = line())
                {
                    int colon = header.indexOf(':');
                    if (colon < 0)
                        continue;
                    String name = header.substring(0, colon).trim();
                    String value = header.substring(colon + 1).trim();
                    if (name.equalsIgnoreCase("Content-Length"))
                        length = Long.parseLong(value);
                    else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked"))
                        chunked = true;
                }
                if (chunked)
                {
                    for (long size = Long.parseLong(line().split(";")[0].trim(), 16); size > 0; size = Long.parseLong(line().split(";")[0].trim(), 16))
                    {
                        skip(size);
                        line();
                    }
                    while (!line().isEmpty())
                    {
                        // Trailers.
                    }
                }
                else if (length >= 0)
                    skip(length);
                else
                    in.transferTo(OutputStream.nullOutputStream());
                return status.startsWith("HTTP/1.1 200 ") ? null : "status " + status;
            }
            catch (SocketTimeoutException x)
            {
                return "read timeout";
            }
            catch (EOFException x)
            {
                return any ? "response cut short" : "no response (end of stream)";
            }
            catch (SocketException x)
            {
                return any ? "response cut short" : "no response (" + x.getMessage() + ")";
            }
            catch (IOException | RuntimeException x)
            {
                return "client: " + x;
            }
        }

        private String line() throws IOException
        {
            StringBuilder text = new StringBuilder();
            for (int b = in.read(); b != '\n'; b = in.read())
            {
                if (b < 0)
                    throw new EOFException();
                if (b != '\r')
                    text.append((char)b);
            }
            return text.toString();
        }

        private void skip(long n) throws IOException
        {
            for (long left = n; left > 0; left--)
            {
                if (in.read() < 0)
                    throw new EOFException();
            }
        }

        private void close()
        {
            closeQuietly(socket);
            socket = null;
            in = null;
            out = null;
        }
    }

    private static void closeQuietly(Socket s)
    {
        if (s == null)
            return;
        try
        {
            s.close();
        }
        catch (IOException ignored)
        {
            // Closing.
        }
    }

    static String millis(long nanos)
    {
        return nanos < 0 ? "-" : String.format(Locale.ROOT, "%.2f ms", nanos / 1e6);
    }
}
