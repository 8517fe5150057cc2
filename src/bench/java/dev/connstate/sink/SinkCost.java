package dev.connstate.sink;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnStateListener;
import dev.connstate.jetty.BenchConnection;
import dev.connstate.jetty.QueuedListener;

/**
 * The per-event cost of the queued sinks, in process, without Jetty: CPU time and bytes
 * allocated per event on the thread that reports transitions (a Jetty thread in a server) and on
 * the sink's delivery thread. Events are those of HTTP/1.1 keep-alive connections
 * ({@code active}, {@code idle}, ...), round robin over 32 connections from 127.0.0.1 to
 * 127.0.0.1:8080, as {@code wrk -c32} makes them.
 *
 * <pre>
 *   java -cp CLASSPATH dev.connstate.sink.SinkCost MODE [events] [passes]
 * </pre>
 *
 * <p>Modes:</p>
 * <ul>
 *   <li>{@code bare}: the transition alone ({@code System.nanoTime()} and the state machine), the
 *   floor under the other modes' reporting-thread figure;</li>
 *   <li>{@code queue}: the transition, the snapshot and {@code QueuedListener.onStateChange}, with
 *   a listener that does nothing: the queue's cost on both threads;</li>
 *   <li>{@code jsonl}, {@code log}: the same through a queued {@link JsonLinesSink} (appending to
 *   {@code /tmp/sinkcost.jsonl}, deleted after every pass; {@code -Dsinkcost.file=/dev/null} to leave the file system out) or {@link LogSink} (SLF4J, whatever binding is on
 *   the class path: redirect its output);</li>
 *   <li>{@code jsonl-direct}, {@code log-direct}: the sink alone, called on the measuring thread
 *   with ready events (flushed every 1024 events, as a busy queue would), no queue;</li>
 *   <li>{@code log-line}: the log sink's line alone ({@link LogSink#line(ConnInfo)}), without the
 *   logger;</li>
 *   <li>{@code paced-none}, {@code paced-queue}, {@code paced-jsonl}, {@code paced-log}: a server on
 *   one core, roughly: each request is {@code -Dsinkcost.work} ns of computation (default 5000)
 *   between its {@code active} and {@code idle} (so {@code events} / 2 requests), the events go
 *   to nothing, a queue with a listener that does nothing, or a queued sink. Pinned to one core,
 *   wall time per request minus that of {@code paced-none} is what the tracker's queue and sink
 *   cost a request, their thread's wake-ups and switches included.</li>
 * </ul>
 *
 * <p>The reporting thread offers no more than 4096 events ahead of the delivery thread (it
 * parks 20 us when there are more), so nothing is dropped. Run it pinned to one core
 * ({@code taskset -c 1}) to see the two threads share it as they do in a pinned server. Every
 * pass prints one line; the first passes are warm-up. {@code process} is the CPU time of the
 * whole JVM per event, garbage collection included (and the JIT, until it is warm).</p>
 */
public final class SinkCost
{
    private static final int CONNECTIONS = 32;
    private static final int AHEAD = 4096;
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS = (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();

    /** The log sink's line, not logged. */
    private record LineOnly(LogSink sink) implements ConnStateListener
    {
        static volatile int length;

        @Override
        public void onStateChange(ConnInfo conn, ConnState state)
        {
            length = sink.line(conn).length();
        }
    }

    private SinkCost()
    {
    }

    public static void main(String[] args) throws Exception
    {
        String mode = args.length > 0 ? args[0] : "jsonl";
        int events = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        int passes = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        BenchConnection[] conns = new BenchConnection[CONNECTIONS];
        for (int i = 0; i < CONNECTIONS; i++)
        {
            conns[i] = new BenchConnection(i + 1, new InetSocketAddress("127.0.0.1", 40001 + i), new InetSocketAddress("127.0.0.1", 8080));
            conns[i].next();
            conns[i].next();
        }
        Path jsonl = Path.of(System.getProperty("sinkcost.file", "/tmp/sinkcost.jsonl"));
        if (Files.isRegularFile(jsonl))
            Files.delete(jsonl);
        for (int pass = 1; pass <= passes; pass++)
        {
            String line = switch (mode)
            {
                case "bare" -> bare(conns, events);
                case "queue" -> queued(conns, events, (conn, state) -> { });
                case "jsonl" -> queued(conns, events, new JsonLinesSink(jsonl));
                case "log" -> queued(conns, events, new LogSink());
                case "jsonl-direct" -> direct(conns, events, new JsonLinesSink(jsonl));
                case "log-direct" -> direct(conns, events, new LogSink());
                case "log-line" -> direct(conns, events, new LineOnly(new LogSink()));
                case "paced-none" -> paced(conns, events, null);
                case "paced-queue" -> paced(conns, events, (conn, state) -> { });
                case "paced-jsonl" -> paced(conns, events, new JsonLinesSink(jsonl));
                case "paced-log" -> paced(conns, events, new LogSink());
                default -> throw new IllegalArgumentException("Unknown mode " + mode);
            };
            System.out.printf(Locale.ROOT, "%s pass %d/%d: %s%n", mode, pass, passes, line);
            if (Files.isRegularFile(jsonl))
                Files.delete(jsonl);
        }
    }

    private static String bare(BenchConnection[] conns, int events)
    {
        long cpu = THREADS.getCurrentThreadCpuTime();
        long bytes = THREADS.getCurrentThreadAllocatedBytes();
        long sink = 0;
        for (int i = 0; i < events; i++)
        {
            BenchConnection conn = conns[(i >> 1) % CONNECTIONS];
            sink += conn.next().ordinal();
        }
        cpu = THREADS.getCurrentThreadCpuTime() - cpu;
        bytes = THREADS.getCurrentThreadAllocatedBytes() - bytes;
        return String.format(Locale.ROOT, "reporting %.1f ns %.1f B (%d)", (double)cpu / events, (double)bytes / events, sink & 1);
    }

    private static String queued(BenchConnection[] conns, int events, ConnStateListener listener) throws Exception
    {
        QueuedListener queue = new QueuedListener("cost", listener, 65536, 10_000);
        queue.start();
        Thread delivery = null;
        for (Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.getName().equals("connstate-cost"))
                delivery = t;
        }
        if (delivery == null)
            throw new IllegalStateException("no delivery thread");
        long dCpu = THREADS.getThreadCpuTime(delivery.getId());
        long dBytes = THREADS.getThreadAllocatedBytes(delivery.getId());
        long start = System.nanoTime();
        long process = OS.getProcessCpuTime();
        long cpu = THREADS.getCurrentThreadCpuTime();
        long bytes = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < events; i++)
        {
            BenchConnection conn = conns[(i >> 1) % CONNECTIONS];
            ConnState state = conn.next();
            // What the tracker does: one snapshot, offered to every queued listener.
            queue.onStateChange(conn.info().snapshot(), state);
            if ((i & 63) == 0)
            {
                while (queue.getQueued() > AHEAD)
                    LockSupport.parkNanos(20_000);
            }
        }
        cpu = THREADS.getCurrentThreadCpuTime() - cpu;
        bytes = THREADS.getCurrentThreadAllocatedBytes() - bytes;
        while (queue.getQueued() > 0)
            LockSupport.parkNanos(100_000);
        long wall = System.nanoTime() - start;
        // The last event is taken before it is delivered: give the delivery thread a moment.
        Thread.sleep(20);
        dCpu = THREADS.getThreadCpuTime(delivery.getId()) - dCpu;
        dBytes = THREADS.getThreadAllocatedBytes(delivery.getId()) - dBytes;
        process = OS.getProcessCpuTime() - process;
        queue.stop();
        if (queue.getDropped() != 0 || queue.getErrors() != 0 || queue.getDelivered() != events)
            throw new IllegalStateException("dropped " + queue.getDropped() + ", errors " + queue.getErrors() + ", delivered " + queue.getDelivered() + " of " + events);
        return String.format(Locale.ROOT, "reporting %.1f ns %.1f B | delivery %.1f ns %.1f B | wall %.1f ns | process %.1f ns",
            (double)cpu / events, (double)bytes / events, (double)dCpu / events, (double)dBytes / events, (double)wall / events, (double)process / events);
    }

    /** Calibrated so that {@link #work(long)} of this many rounds takes about 1 us. */
    private static long roundsPerMicro;
    private static volatile long worked;

    /** Computation that does not allocate nor sleep: a request's work. */
    private static long work(long rounds)
    {
        long x = worked;
        for (long i = 0; i < rounds; i++)
            x = x * 6364136223846793005L + 1442695040888963407L;
        return x;
    }

    private static String paced(BenchConnection[] conns, int events, ConnStateListener listener) throws Exception
    {
        if (roundsPerMicro == 0)
        {
            for (int i = 0; i < 5; i++)
                worked = work(10_000_000);
            long cpu = THREADS.getCurrentThreadCpuTime();
            worked = work(100_000_000);
            roundsPerMicro = 100_000_000L * 1000 / (THREADS.getCurrentThreadCpuTime() - cpu);
        }
        long rounds = roundsPerMicro * Long.getLong("sinkcost.work", 5000) / 1000;
        QueuedListener queue = null;
        Thread delivery = null;
        if (listener != null)
        {
            queue = new QueuedListener("cost", listener, 65536, 10_000);
            queue.start();
            for (Thread t : Thread.getAllStackTraces().keySet())
            {
                if (t.getName().equals("connstate-cost"))
                    delivery = t;
            }
        }
        long dCpu = delivery == null ? 0 : THREADS.getThreadCpuTime(delivery.getId());
        long process = OS.getProcessCpuTime();
        long start = System.nanoTime();
        int requests = events / 2;
        for (int i = 0; i < requests; i++)
        {
            BenchConnection conn = conns[i % CONNECTIONS];
            ConnState state = conn.next();
            if (queue != null)
                queue.onStateChange(conn.info().snapshot(), state);
            worked = work(rounds);
            state = conn.next();
            if (queue != null)
                queue.onStateChange(conn.info().snapshot(), state);
        }
        if (queue != null)
        {
            while (queue.getQueued() > 0)
                Thread.onSpinWait();
        }
        long wall = System.nanoTime() - start;
        process = OS.getProcessCpuTime() - process;
        if (queue != null)
        {
            dCpu = THREADS.getThreadCpuTime(delivery.getId()) - dCpu;
            queue.stop();
            if (queue.getDropped() != 0 || queue.getErrors() != 0)
                throw new IllegalStateException("dropped " + queue.getDropped() + ", errors " + queue.getErrors());
        }
        return String.format(Locale.ROOT, "request %.1f ns wall | process %.1f ns | delivery %.1f ns per event",
            (double)wall / requests, (double)process / requests, (double)dCpu / (2.0 * requests));
    }

    private static String direct(BenchConnection[] conns, int events, ConnStateListener sink) throws Exception
    {
        // Ready events, as the queue hands them: 64 per connection, cycled.
        ConnStateEvent[] ready = new ConnStateEvent[CONNECTIONS * 64];
        for (int i = 0; i < ready.length; i++)
        {
            BenchConnection conn = conns[(i >> 1) % CONNECTIONS];
            conn.next();
            ready[i] = conn.info().snapshot();
        }
        long process = OS.getProcessCpuTime();
        long cpu = THREADS.getCurrentThreadCpuTime();
        long bytes = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < events; i++)
        {
            ConnStateEvent event = ready[i % ready.length];
            sink.onStateChange(event, event.state());
            if ((i & 1023) == 1023 && sink instanceof java.io.Flushable f)
                f.flush();
        }
        if (sink instanceof java.io.Flushable f)
            f.flush();
        cpu = THREADS.getCurrentThreadCpuTime() - cpu;
        bytes = THREADS.getCurrentThreadAllocatedBytes() - bytes;
        process = OS.getProcessCpuTime() - process;
        if (sink instanceof java.io.Closeable c)
            c.close();
        return String.format(Locale.ROOT, "sink %.1f ns %.1f B | process %.1f ns", (double)cpu / events, (double)bytes / events, (double)process / events);
    }
}
