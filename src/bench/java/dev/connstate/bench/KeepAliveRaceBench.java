package dev.connstate.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * What a load balancer sees of the server's keep-alive close (issue 21): a pool of keep-alive
 * HTTP/1.1 connections, each reused after a gap drawn around the server's keep-alive timeout,
 * without retries, against three servers, each in a JVM of its own ({@link KeepAliveServer}):
 * plain Jetty whose connector idle timeout closes idle connections, Jetty with the tracker's
 * keep-alive timeout at that idle timeout, and with the keep-alive timeout above the pool's
 * longest gap. See {@code src/bench/README.md}.
 *
 * <p>Each connection of the pool, on a thread of its own: sends {@code GET /}, reads the response
 * (a request at a time), waits a gap drawn uniformly from {@code [(1-spread)T, (1+spread)T]},
 * checks without blocking whether the server closed the connection meanwhile (its FIN or reset
 * arrived: a pool's check before reuse; then it connects again, not a failure), waits
 * {@code bench.keepalive.rttMicros} (the round trip during which, on a network, the request and
 * the server's FIN cross; on loopback the FIN arrives at once) and sends the next request. A request that gets no
 * complete response (end of stream or reset) is a client failure; the connection is replaced.
 * After each run the server tells what it counted ({@code getKeepAliveRaces()}).</p>
 */
public final class KeepAliveRaceBench
{
    private static final PrintStream OUT = System.out;
    private static final byte[] GET = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEAD_END = {'\r', '\n', '\r', '\n'};

    /** What a request, or a look before reuse, came to. */
    enum Outcome
    {
        /** A 200 with the body "hello". */
        RESPONSE,
        /** End of stream before a byte of the response: a failure. */
        EOF_BEFORE_RESPONSE,
        /** A reset (or another read error) before a byte of the response: a failure. */
        RESET_BEFORE_RESPONSE,
        /** Some of the response, then end of stream or reset: a failure. */
        CUT,
        /** The request could not be written (reset already): a failure. */
        WRITE_FAILED,
        /** Anything else (another status or body, a byte between responses): the bench's own error, should stay 0. */
        CLIENT_ERROR,
        /** The server's close found by the look before reuse: the pool connects again, not a failure. */
        CLOSED_BEFORE_REUSE;

        boolean failure()
        {
            return this == EOF_BEFORE_RESPONSE || this == RESET_BEFORE_RESPONSE || this == CUT || this == WRITE_FAILED;
        }
    }

    /**
     * A failure, or another event of the pool, as the client saw it: its connection's local port
     * (-1 if none) and when its request was sent ({@link System#nanoTime()}, 0 if none).
     */
    record Event(int port, long sentNanos, String what)
    {
    }

    /** A server variant: its connector's idle timeout and the tracker's keep-alive timeout (0: no tracker, plain). */
    record Variant(String name, long idleMillis, long keepAliveMillis)
    {
    }

    /** What the server counted ({@link KeepAliveServer}'s {@code STATS}); -1 where there is no tracker. */
    record ServerStats(long handled, long races, long flagged, long keepAliveCloses, long idleTimeoutCloses, long remoteCloses, long otherCloses)
    {
    }

    /** One variant's run in one round. */
    record Run(Variant variant, int round, long sent, long reusedSent, long[] outcomes, long connects, long refusedConnects,
               long longestAnsweredGapMicros, long shortestClosedGapMicros, ServerStats server, long closedBeforeSend)
    {
        long count(Outcome outcome)
        {
            return outcomes[outcome.ordinal()];
        }

        long failures()
        {
            return Arrays.stream(Outcome.values()).filter(Outcome::failure).mapToLong(this::count).sum();
        }
    }

    private final Path dir = Path.of(System.getProperty("bench.out", "target/bench"));
    private final List<String> jvmArgs = Bench.words(System.getProperty("bench.jvmArgs", "-Xms512m -Xmx512m -XX:+UseG1GC"));
    private final long idleMillis = knob("bench.keepalive.idleMillis", 1000);
    private final long aboveMillis = knob("bench.keepalive.aboveMillis", 2 * idleMillis);
    private final int connections = (int)knob("bench.keepalive.connections", 128);
    private final long seconds = knob("bench.keepalive.seconds", 15);
    private final int rounds = (int)knob("bench.keepalive.rounds", 2);
    private final double spread = Double.parseDouble(text("bench.keepalive.spread", "0.2"));
    private final long rttMicros = knob("bench.keepalive.rttMicros", 1000);
    private final List<Variant> variants;
    private final List<Run> runs = new ArrayList<>();
    private final StringBuilder failureLog = new StringBuilder();

    private KeepAliveRaceBench()
    {
        List<Variant> all = List.of(new Variant("plain", idleMillis, 0), new Variant("module-at-idle", idleMillis, idleMillis), new Variant("module-above", idleMillis, aboveMillis));
        List<String> names = Bench.words(text("bench.keepalive.variants", "plain,module-at-idle,module-above").replace(',', ' '));
        variants = all.stream().filter(v -> names.contains(v.name())).toList();
        if (variants.size() != names.size())
            throw new IllegalArgumentException("bench.keepalive.variants: " + names + ", known: plain, module-at-idle, module-above");
        if (spread < 0 || spread >= 1)
            throw new IllegalArgumentException("bench.keepalive.spread must be in [0, 1): " + spread);
        if (aboveMillis <= Math.round(idleMillis * (1 + spread)))
            throw new IllegalArgumentException("bench.keepalive.aboveMillis (" + aboveMillis + ") must be above the longest gap, " + Math.round(idleMillis * (1 + spread)) + " ms");
    }

    public static void main(String[] args) throws Exception
    {
        new KeepAliveRaceBench().run();
    }

    /** A knob that the pom passes blank when it is not set: blank is the default. */
    private static String text(String property, String defaults)
    {
        String value = System.getProperty(property, "").trim();
        return value.isEmpty() ? defaults : value;
    }

    private static long knob(String property, long defaults)
    {
        return Long.parseLong(text(property, String.valueOf(defaults)));
    }


    private void run() throws Exception
    {
        Files.createDirectories(dir);
        String loadAtStart = Bench.loadAverage();
        Instant began = Instant.now();
        for (int round = 1; round <= rounds; round++)
        {
            List<Variant> order = new ArrayList<>(variants);
            if (round % 2 == 0)
                Collections.reverse(order);
            for (Variant variant : order)
                runs.add(run(variant, round));
        }
        String table = report(began, loadAtStart);
        Path md = dir.resolve("keepalive.md");
        Files.writeString(md, table);
        Path failures = dir.resolve("keepalive-failures.txt");
        Files.writeString(failures, failureLog.toString());
        OUT.println();
        OUT.println(table);
        OUT.println("wrote " + md.toAbsolutePath() + " and " + failures.toAbsolutePath());
    }

    private Run run(Variant variant, int round) throws Exception
    {
        Path log = dir.resolve("keepalive-" + variant.name() + "-" + round + ".log");
        List<String> command = new ArrayList<>(ServerProcess.pinned("bench.serverCpus"));
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), KeepAliveServer.class.getName(),
            variant.name(), String.valueOf(variant.idleMillis()), String.valueOf(variant.keepAliveMillis())));
        Process server = new ProcessBuilder(command).redirectError(log.toFile()).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
        PrintWriter in = new PrintWriter(server.getOutputStream(), true, StandardCharsets.UTF_8);
        try
        {
            int port = awaitReady(server, out, log);
            failureLog.append(String.format(Locale.ROOT, "== round %d %s (idle timeout %d ms, keep-alive timeout %s)%n", round, variant.name(), variant.idleMillis(),
                variant.keepAliveMillis() == 0 ? "off" : variant.keepAliveMillis() + " ms"));
            Pool pool = new Pool(new InetSocketAddress("127.0.0.1", port));
            pool.run(TimeUnit.SECONDS.toNanos(seconds));
            // A race is counted when its connection closes, at once; the rest close within the linger.
            Thread.sleep(1500);
            in.println("stats");
            String line = out.readLine();
            if (line == null || !line.startsWith("STATS "))
                throw new IOException("The server answered '" + line + "' to stats; see " + log);
            long[] f = Arrays.stream(line.substring(6).trim().split(" ")).mapToLong(Long::parseLong).toArray();
            ServerStats stats = new ServerStats(f[0], f[1], f[2], f[3], f[4], f[5], f[6]);
            List<String[]> closes = Files.readAllLines(log).stream().filter(l -> l.startsWith("CLOSED ")).map(l -> l.split(" ")).toList();
            long closedBeforeSend = 0;
            for (Event event : pool.events)
            {
                String[] close = nearestClose(event, closes);
                if (close != null && Long.parseLong(close[2]) - event.sentNanos() < 0)
                    closedBeforeSend++;
                failureLog.append(event.what()).append(serverSide(event, close)).append('\n');
            }
            Run result = pool.result(variant, round, stats, closedBeforeSend);
            OUT.printf(Locale.ROOT, "round %d %-14s sent %5d, responses %5d, failures %3d (eof %d, reset %d, cut %d, write %d), races %s, closed before reuse %d, client errors %d%n",
                round, variant.name(), result.sent(), result.count(Outcome.RESPONSE), result.failures(), result.count(Outcome.EOF_BEFORE_RESPONSE),
                result.count(Outcome.RESET_BEFORE_RESPONSE), result.count(Outcome.CUT), result.count(Outcome.WRITE_FAILED),
                stats.races() < 0 ? "-" : String.valueOf(stats.races()), result.count(Outcome.CLOSED_BEFORE_REUSE), result.count(Outcome.CLIENT_ERROR));
            return result;
        }
        finally
        {
            in.println("quit");
            if (!server.waitFor(10, TimeUnit.SECONDS))
                server.destroyForcibly();
        }
    }

    /**
     * @return the server's log line of a failed request's connection: its close nearest to the
     * send ({@link KeepAliveServer}'s {@code CLOSED clientPort nanos reason race requests idleNanos}),
     * {@code null} if none
     */
    private static String[] nearestClose(Event event, List<String[]> closes)
    {
        if (event.port() < 0)
            return null;
        String[] nearest = null;
        for (String[] close : closes)
        {
            if (Integer.parseInt(close[1]) == event.port()
                && (nearest == null || Math.abs(Long.parseLong(close[2]) - event.sentNanos()) < Math.abs(Long.parseLong(nearest[2]) - event.sentNanos())))
                nearest = close;
        }
        return nearest;
    }

    /** What the server logged of a failed request's connection. */
    private static String serverSide(Event event, String[] nearest)
    {
        if (event.port() < 0)
            return "";
        if (nearest == null)
            return "; the server logged no close of this connection";
        long idle = Long.parseLong(nearest[6]);
        return String.format(Locale.ROOT, "; the server closed it %.3f ms after the send, reason %s, race %s, after %s requests%s", (Long.parseLong(nearest[2]) - event.sentNanos()) / 1e6,
            nearest[3], nearest[4], nearest[5], idle < 0 ? "" : String.format(Locale.ROOT, ", idle %.3f ms before the close", idle / 1e6));
    }

    private static int awaitReady(Process server, BufferedReader out, Path log) throws IOException
    {
        String line = out.readLine();
        while (line != null && !line.startsWith("READY "))
            line = out.readLine();
        if (line == null)
        {
            server.destroyForcibly();
            throw new IOException("The server did not start; see " + log);
        }
        return Integer.parseInt(line.substring(6).trim());
    }

    /** The pool of one run: {@code connections} keep-alive connections, a thread each. */
    private final class Pool
    {
        private final InetSocketAddress address;
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong reusedSent = new AtomicLong();
        private final AtomicLongArray outcomes = new AtomicLongArray(Outcome.values().length);
        private final AtomicLong connects = new AtomicLong();
        private final AtomicLong refusedConnects = new AtomicLong();
        private final AtomicLong longestAnsweredGap = new AtomicLong();
        private final AtomicLong shortestClosedGap = new AtomicLong(Long.MAX_VALUE);
        private final Queue<Event> events = new ConcurrentLinkedQueue<>();
        private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
        private volatile boolean closing;
        private long startNanos;

        private Pool(InetSocketAddress address)
        {
            this.address = address;
        }

        void run(long durationNanos) throws InterruptedException
        {
            startNanos = System.nanoTime();
            long deadline = startNanos + durationNanos;
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < connections; i++)
            {
                int id = i;
                // Started spread over one timeout, so that the connections do not go idle together.
                long start = startNanos + TimeUnit.MILLISECONDS.toNanos(idleMillis) * i / connections;
                Thread thread = new Thread(() -> connection(id, start, deadline), "keepalive-" + i);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads)
                thread.join(TimeUnit.NANOSECONDS.toMillis(durationNanos) + 30_000);
            closing = true;
            for (SocketChannel channel : open)
                close(channel);
        }

        Run result(Variant variant, int round, ServerStats stats, long closedBeforeSend)
        {
            long[] counts = new long[Outcome.values().length];
            for (int i = 0; i < counts.length; i++)
                counts[i] = outcomes.get(i);
            long shortest = shortestClosedGap.get();
            return new Run(variant, round, sent.get(), reusedSent.get(), counts, connects.get(), refusedConnects.get(), longestAnsweredGap.get(),
                shortest == Long.MAX_VALUE ? -1 : shortest, stats, closedBeforeSend);
        }

        private String at(long nanos)
        {
            return String.format(Locale.ROOT, "%+10.3f s", (nanos - startNanos) / 1e9);
        }

        /** One connection of the pool, replaced when it closes, until the deadline. */
        private void connection(int id, long start, long deadline)
        {
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            String[] error = new String[1];
            sleepUntil(start);
            SocketChannel channel = null;
            // On the connection in hand: responses so far, and when the last one ended.
            int served = 0;
            long lastEnd = 0;
            try
            {
                while (!closing)
                {
                    long gapNanos = 0;
                    if (channel != null)
                    {
                        double factor = 1 - spread + 2 * spread * ThreadLocalRandom.current().nextDouble();
                        gapNanos = (long)(TimeUnit.MILLISECONDS.toNanos(idleMillis) * factor);
                        if (lastEnd + gapNanos - deadline >= 0)
                            return;
                        sleepUntil(lastEnd + gapNanos);
                        Outcome look = look(channel);
                        if (look != null)
                        {
                            outcomes.incrementAndGet(look.ordinal());
                            if (look == Outcome.CLOSED_BEFORE_REUSE)
                                shortestClosedGap.accumulateAndGet(gapNanos / 1000, Math::min);
                            else
                                events.add(new Event(-1, 0, String.format(Locale.ROOT, "%s conn %d: %s after %d responses, gap %.3f ms", at(System.nanoTime()), id, look, served, gapNanos / 1e6)));
                            channel = close(channel);
                            // The pool's request waits for the new connection: sent at once on it.
                            gapNanos = 0;
                        }
                        else if (rttMicros > 0)
                        {
                            // The round trip: on a network the server's FIN may be on its way now.
                            sleepUntil(System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(rttMicros));
                        }
                    }
                    else if (System.nanoTime() - deadline >= 0)
                    {
                        return;
                    }
                    if (channel == null)
                    {
                        channel = connect();
                        served = 0;
                        if (channel == null)
                        {
                            sleepUntil(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(100));
                            continue;
                        }
                    }
                    long sentAt = System.nanoTime();
                    sent.incrementAndGet();
                    if (served > 0)
                        reusedSent.incrementAndGet();
                    Outcome outcome = exchange(channel, buffer, error);
                    long now = System.nanoTime();
                    if (closing)
                        return;
                    outcomes.incrementAndGet(outcome.ordinal());
                    if (outcome == Outcome.RESPONSE)
                    {
                        if (served > 0)
                            longestAnsweredGap.accumulateAndGet(gapNanos / 1000, Math::max);
                        served++;
                        lastEnd = now;
                        continue;
                    }
                    events.add(new Event(port(channel), sentAt, String.format(Locale.ROOT,
                        "%s conn %d (port %d): %s (%s), request %d on its connection, sent %.3f ms after the previous response's end (gap drawn %.3f ms), %.3f ms to the failure",
                        at(now), id, port(channel), outcome, error[0], served + 1, served == 0 ? 0 : (sentAt - lastEnd) / 1e6, gapNanos / 1e6, (now - sentAt) / 1e6)));
                    channel = close(channel);
                }
            }
            finally
            {
                close(channel);
            }
        }

        private SocketChannel connect()
        {
            SocketChannel channel = null;
            try
            {
                channel = SocketChannel.open();
                open.add(channel);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                channel.connect(address);
                connects.incrementAndGet();
                return channel;
            }
            catch (IOException x)
            {
                refusedConnects.incrementAndGet();
                events.add(new Event(-1, 0, at(System.nanoTime()) + " connect failed: " + x));
                return close(channel);
            }
        }

        private static int port(SocketChannel channel)
        {
            try
            {
                return channel.getLocalAddress() instanceof InetSocketAddress local ? local.getPort() : -1;
            }
            catch (IOException x)
            {
                return -1;
            }
        }

        private SocketChannel close(SocketChannel channel)
        {
            if (channel != null)
            {
                open.remove(channel);
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
         * A pool's look before reuse: a read that does not block sees the server's FIN (end of
         * stream) or reset, if either has arrived.
         *
         * @return {@code null} if the connection looks usable
         */
        private Outcome look(SocketChannel channel)
        {
            ByteBuffer probe = ByteBuffer.allocate(1);
            try
            {
                channel.configureBlocking(false);
                int read = channel.read(probe);
                if (read > 0)
                    return Outcome.CLIENT_ERROR;
                if (read < 0)
                    return Outcome.CLOSED_BEFORE_REUSE;
                channel.configureBlocking(true);
                return null;
            }
            catch (IOException x)
            {
                return Outcome.CLOSED_BEFORE_REUSE;
            }
        }

        /** Sends {@code GET /} and reads its response, whole; {@code error[0]} says what went wrong. */
        private Outcome exchange(SocketChannel channel, ByteBuffer buffer, String[] error)
        {
            try
            {
                ByteBuffer request = ByteBuffer.wrap(GET);
                while (request.hasRemaining())
                    channel.write(request);
            }
            catch (IOException x)
            {
                error[0] = String.valueOf(x);
                return Outcome.WRITE_FAILED;
            }
            buffer.clear();
            int bodyStart = -1;
            long length = -1;
            try
            {
                while (true)
                {
                    int read = channel.read(buffer);
                    if (read < 0)
                    {
                        error[0] = "end of stream after " + buffer.position() + " bytes";
                        return buffer.position() == 0 ? Outcome.EOF_BEFORE_RESPONSE : Outcome.CUT;
                    }
                    byte[] bytes = buffer.array();
                    if (bodyStart < 0)
                    {
                        int end = indexOf(bytes, buffer.position(), HEAD_END);
                        if (end >= 0)
                        {
                            bodyStart = end + HEAD_END.length;
                            String head = new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
                            if (!head.startsWith("HTTP/1.1 200 "))
                            {
                                error[0] = head.lines().findFirst().orElse("");
                                return Outcome.CLIENT_ERROR;
                            }
                            for (String field : head.split("\r\n"))
                            {
                                String lower = field.toLowerCase(Locale.ROOT);
                                if (lower.startsWith("content-length:"))
                                    length = Long.parseLong(lower.substring(15).trim());
                                if (lower.startsWith("connection:") && lower.contains("close"))
                                {
                                    error[0] = "Connection: close";
                                    return Outcome.CLIENT_ERROR;
                                }
                            }
                            if (length < 0)
                            {
                                error[0] = "no Content-Length: " + head;
                                return Outcome.CLIENT_ERROR;
                            }
                        }
                    }
                    if (bodyStart >= 0 && buffer.position() - bodyStart >= length)
                    {
                        String body = new String(bytes, bodyStart, buffer.position() - bodyStart, StandardCharsets.ISO_8859_1);
                        if (!body.equals("hello"))
                        {
                            error[0] = "body '" + body + "'";
                            return Outcome.CLIENT_ERROR;
                        }
                        return Outcome.RESPONSE;
                    }
                    if (!buffer.hasRemaining())
                    {
                        error[0] = "response larger than " + buffer.capacity() + " bytes";
                        return Outcome.CLIENT_ERROR;
                    }
                }
            }
            catch (IOException x)
            {
                error[0] = x + " after " + buffer.position() + " bytes";
                return buffer.position() == 0 ? Outcome.RESET_BEFORE_RESPONSE : Outcome.CUT;
            }
        }
    }

    private static int indexOf(byte[] bytes, int to, byte[] what)
    {
        for (int i = 0; i <= to - what.length; i++)
        {
            int j = 0;
            while (j < what.length && bytes[i + j] == what[j])
                j++;
            if (j == what.length)
                return i;
        }
        return -1;
    }

    private static void sleepUntil(long nanos)
    {
        long left;
        while ((left = nanos - System.nanoTime()) > 0)
            LockSupport.parkNanos(left);
    }

    // ---- the table ----

    private record Row(String label, Function<List<Run>, String> figure)
    {
    }

    private static Row sum(String label, ToLongFunction<Run> figure)
    {
        return new Row(label, rs -> String.valueOf(rs.stream().mapToLong(figure).sum()));
    }

    /** A server figure: "-" where the server has no tracker. */
    private static Row tracked(String label, ToLongFunction<ServerStats> figure)
    {
        return new Row(label, rs -> rs.stream().anyMatch(r -> figure.applyAsLong(r.server()) < 0) ? "- (no tracker)" : String.valueOf(rs.stream().mapToLong(r -> figure.applyAsLong(r.server())).sum()));
    }

    private static String millis(long micros)
    {
        return micros < 0 ? "-" : String.format(Locale.ROOT, "%.1f", micros / 1000.0);
    }

    /** The target of a variant, and whether this run met it. */
    private String target(Variant variant, List<Run> rs)
    {
        long failures = rs.stream().mapToLong(Run::failures).sum();
        long races = rs.stream().mapToLong(r -> r.server().races()).sum();
        return switch (variant.name())
        {
            case "plain" -> failures > 0 ? "failures that nothing counts: " + failures : "no failure in this run (the race is a matter of chance)";
            case "module-at-idle" ->
            {
                long allowed = failures > 40 ? (long)Math.floor(failures * 0.05) : 2;
                boolean met = Math.abs(races - failures) <= allowed;
                yield String.format(Locale.ROOT, "races = failures within %d: %s (%d vs %d)", allowed, met ? "**met**" : "**not met**", races, failures);
            }
            case "module-above" -> String.format(Locale.ROOT, "0 failures: %s (%d)", failures == 0 ? "**met**" : "**not met**", failures);
            default -> "";
        };
    }

    private String report(Instant began, String loadAtStart)
    {
        StringBuilder md = new StringBuilder();
        md.append("# What a load balancer sees: requests that race the server's keep-alive close\n\n");
        md.append(String.format(Locale.ROOT, "- run: %s, host: %d cores, %s %s, load average at start: %s, at end: %s%n", began,
            Runtime.getRuntime().availableProcessors(), System.getProperty("java.vm.name"), System.getProperty("java.version"), loadAtStart, Bench.loadAverage()));
        md.append(String.format(Locale.ROOT, "- T = %d ms: every server's connector idle timeout; `plain`: Jetty alone; `module-at-idle`: + `ConnStateTracker`, keep-alive timeout %d ms; `module-above`: keep-alive timeout %d ms, above the longest gap%n",
            idleMillis, idleMillis, aboveMillis));
        md.append(String.format(Locale.ROOT, "- client: a pool of %d HTTP/1.1 keep-alive connections (raw sockets on 127.0.0.1, a request at a time, no retries), each reused after a gap uniform in [%d, %d] ms, looked at before reuse (a FIN or reset found: connect again, not a failure), %s%n",
            connections, Math.round(idleMillis * (1 - spread)), Math.round(idleMillis * (1 + spread)),
            rttMicros == 0 ? "then the request sent at once" : "then " + rttMicros + " us (the round trip, during which the request and the server's FIN cross) before the request is sent"));
        md.append(String.format(Locale.ROOT, "- %d round(s) of %d s per variant, a fresh server JVM per run, the order alternating; totals over the rounds%n%n", rounds, seconds));
        md.append("| |");
        for (Variant v : variants)
            md.append(" ").append(v.name()).append(" |");
        md.append("\n| ---");
        md.append(" | ---".repeat(variants.size())).append(" |\n");
        List<Row> rows = List.of(
            new Row("connector idle timeout / keep-alive timeout (ms)", rs -> rs.get(0).variant().idleMillis() + " / " + (rs.get(0).variant().keepAliveMillis() == 0 ? "off" : String.valueOf(rs.get(0).variant().keepAliveMillis()))),
            sum("requests sent", Run::sent),
            sum("of which on a reused connection", Run::reusedSent),
            sum("responses (200 hello)", r -> r.count(Outcome.RESPONSE)),
            new Row("**client failures** (no complete response)", rs -> "**" + rs.stream().mapToLong(Run::failures).sum() + "**"),
            sum("- end of stream before a byte of the response", r -> r.count(Outcome.EOF_BEFORE_RESPONSE)),
            sum("- reset before a byte of the response", r -> r.count(Outcome.RESET_BEFORE_RESPONSE)),
            sum("- response cut short", r -> r.count(Outcome.CUT)),
            sum("- request could not be written", r -> r.count(Outcome.WRITE_FAILED)),
            sum("failures whose connection the server had reported closed before the request was sent (its log, which may lag the close: at least this many)", Run::closedBeforeSend),
            new Row("**races counted by the server** (`getKeepAliveRaces()`)", rs -> rs.stream().anyMatch(r -> r.server().races() < 0) ? "**- (nothing counts)**" : "**" + rs.stream().mapToLong(r -> r.server().races()).sum() + "**"),
            tracked("closed connections flagged `race`", ServerStats::flagged),
            sum("requests the handler ran", r -> r.server().handled()),
            sum("connections found closed before reuse (reconnected, not failures)", r -> r.count(Outcome.CLOSED_BEFORE_REUSE)),
            tracked("server closes `keep_alive_timeout`", ServerStats::keepAliveCloses),
            tracked("server closes `idle_timeout`", ServerStats::idleTimeoutCloses),
            new Row("longest gap of a reuse that got its response (ms)", rs -> millis(rs.stream().mapToLong(Run::longestAnsweredGapMicros).max().orElse(-1))),
            new Row("shortest gap at which the server's close was found (ms)", rs -> millis(rs.stream().mapToLong(Run::shortestClosedGapMicros).filter(g -> g >= 0).min().orElse(-1))),
            sum("client errors (the bench's own; should be 0)", r -> r.count(Outcome.CLIENT_ERROR)),
            sum("refused connects", Run::refusedConnects));
        for (Row row : rows)
        {
            md.append("| ").append(row.label()).append(" |");
            for (Variant v : variants)
                md.append(" ").append(row.figure().apply(runsOf(v))).append(" |");
            md.append('\n');
        }
        md.append("| target |");
        for (Variant v : variants)
            md.append(" ").append(target(v, runsOf(v))).append(" |");
        md.append("\n\nPer run (failures / races counted):\n\n| round |");
        for (Variant v : variants)
            md.append(" ").append(v.name()).append(" |");
        md.append("\n| ---");
        md.append(" | ---".repeat(variants.size())).append(" |\n");
        for (int round = 1; round <= rounds; round++)
        {
            md.append("| ").append(round).append(" |");
            for (Variant v : variants)
            {
                int rd = round;
                Run r = runs.stream().filter(x -> x.variant().equals(v) && x.round() == rd).findFirst().orElseThrow();
                md.append(String.format(Locale.ROOT, " %d sent, %d / %s |", r.sent(), r.failures(), r.server().races() < 0 ? "-" : String.valueOf(r.server().races())));
            }
            md.append('\n');
        }
        md.append("\nEvery failure, with its timing: `keepalive-failures.txt`; the servers' logs: `keepalive-<variant>-<round>.log`.\n");
        return md.toString();
    }

    private List<Run> runsOf(Variant variant)
    {
        return runs.stream().filter(r -> r.variant().equals(variant)).toList();
    }
}
