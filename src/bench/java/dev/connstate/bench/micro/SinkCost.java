package dev.connstate.bench.micro;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.locks.LockSupport;

import dev.connstate.ConnStateListener;
import dev.connstate.jetty.QueuedListener;
import dev.connstate.sink.JsonLinesSink;
import dev.connstate.sink.LogSink;
import org.eclipse.jetty.server.LocalConnector;

/**
 * What a queued sink costs per event on each of the two threads it involves, and what it adds
 * to a request when both share one core: the two things JMH's per-operation figures do not show
 * (the microbenchmarks, {@link SinkBench} and the {@code queued} variants, measure the thread
 * that runs the operation, and the sinks alone).
 *
 * <pre>
 *   java -cp CLASSPATH dev.connstate.bench.micro.SinkCost MODE [events] [passes]
 * </pre>
 *
 * <p>The events are those of HTTP/1.1 keep-alive requests ({@code active}, {@code idle}), round
 * robin over 32 connections, as {@code wrk -c32} makes them: real requests that Jetty parses,
 * handles and answers on this thread, heard by a real tracker through its Jetty callbacks, whose
 * queued listeners get the tracker's own snapshots ({@link LocalServer}, public API only).</p>
 *
 * <p>Modes:</p>
 * <ul>
 *   <li>{@code count}: the tracker without listeners, the floor under the other modes' reporting
 *   figure (which includes Jetty's own work on the request: compare modes, not absolutes);</li>
 *   <li>{@code queue}: plus a queued listener that does nothing: the queue's cost on both threads;</li>
 *   <li>{@code jsonl}, {@code log}: plus a queued {@link JsonLinesSink} (appending to
 *   {@code /tmp/sinkcost.jsonl}, deleted after every pass; {@code -Dsinkcost.file=/dev/null} to
 *   leave the file system out) or {@link LogSink} (SLF4J, whatever binding is on the class path:
 *   redirect its output);</li>
 *   <li>{@code paced-count}, {@code paced-queue}, {@code paced-jsonl}, {@code paced-log}: a server
 *   on one core, roughly: the handler computes for {@code -Dsinkcost.work} ns (default 5000) per
 *   request. Pinned to one core, wall time per request minus that of {@code paced-count} is what
 *   the queue and the sink cost a request, their thread's wake-ups and switches included.</li>
 * </ul>
 *
 * <p>Outside the paced modes the reporting thread offers no more than 4096 events ahead of the
 * delivery thread (it parks 20 us when there are more), so nothing is dropped. Run it pinned to
 * one core ({@code taskset -c 1}) to see the two threads share it as they do in a pinned server.
 * Every pass (a new server) prints one line; the first passes are warm-up. {@code process} is the
 * CPU time of the whole JVM per event, garbage collection included (and the JIT, until it is
 * warm).</p>
 */
public final class SinkCost
{
    private static final int CONNECTIONS = 32;
    private static final int AHEAD = 4096;
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS = (com.sun.management.OperatingSystemMXBean)ManagementFactory.getOperatingSystemMXBean();

    private SinkCost()
    {
    }

    public static void main(String[] args) throws Exception
    {
        String mode = args.length > 0 ? args[0] : "jsonl";
        int events = args.length > 1 ? Integer.parseInt(args[1]) : 2_000_000;
        int passes = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        boolean paced = mode.startsWith("paced-");
        String sink = paced ? mode.substring("paced-".length()) : mode;
        if (!sink.equals("count") && !sink.equals("queue") && !sink.equals("jsonl") && !sink.equals("log"))
            throw new IllegalArgumentException("Unknown mode '" + mode + "' (count, queue, jsonl, log, paced-count, paced-queue, paced-jsonl, paced-log)");
        Path jsonl = Path.of(System.getProperty("sinkcost.file", "/tmp/sinkcost.jsonl"));
        if (Files.isRegularFile(jsonl))
            Files.delete(jsonl);
        long workNanos = paced ? Long.getLong("sinkcost.work", 5000) : 0;
        for (int pass = 1; pass <= passes; pass++)
        {
            String line;
            ConnStateListener listener = switch (sink)
            {
                case "queue" -> (conn, state) -> { };
                case "jsonl" -> new JsonLinesSink(jsonl);
                case "log" -> new LogSink();
                default -> null;
            };
            try (LocalServer server = new LocalServer(listener == null ? "count" : "queued", listener, workNanos))
            {
                QueuedListener queue = listener == null ? null : server.tracker().getQueuedListeners().get(0);
                LocalConnector.LocalEndPoint[] connections = new LocalConnector.LocalEndPoint[CONNECTIONS];
                for (int i = 0; i < CONNECTIONS; i++)
                {
                    // Each has had a request: new, active and idle are behind it.
                    connections[i] = server.open();
                    server.request(connections[i]);
                }
                // Those events are not the measurement's: delivered before it begins.
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (queue != null && queue.getDelivered() < 3L * CONNECTIONS)
                {
                    if (System.nanoTime() - deadline > 0)
                        throw new IllegalStateException("The first " + 3 * CONNECTIONS + " events were not delivered within 10 s: " + server.describe());
                    Thread.sleep(1);
                }
                line = paced ? paced(server, connections, queue, events / 2) : twoThreads(server, connections, queue, events / 2);
                for (LocalConnector.LocalEndPoint connection : connections)
                    connection.close();
                if (server.tracker().getRequestsTotal() != server.handled())
                    throw new IllegalStateException("The tracker did not see every request: " + server.describe());
            }
            System.out.printf(Locale.ROOT, "%s pass %d/%d: %s%n", mode, pass, passes, line);
            if (Files.isRegularFile(jsonl))
                Files.delete(jsonl);
        }
    }

    private static Thread deliveryThread(QueuedListener queue)
    {
        if (queue == null)
            return null;
        String name = "connstate-" + queue.getName();
        for (Thread t : Thread.getAllStackTraces().keySet())
        {
            if (t.getName().equals(name))
                return t;
        }
        throw new IllegalStateException("No delivery thread " + name + " (is " + queue + " started?)");
    }

    private static String twoThreads(LocalServer server, LocalConnector.LocalEndPoint[] connections, QueuedListener queue, int requests) throws Exception
    {
        Thread delivery = deliveryThread(queue);
        long delivered = queue == null ? 0 : queue.getDelivered();
        long dCpu = delivery == null ? 0 : THREADS.getThreadCpuTime(delivery.getId());
        long dBytes = delivery == null ? 0 : THREADS.getThreadAllocatedBytes(delivery.getId());
        long start = System.nanoTime();
        long process = OS.getProcessCpuTime();
        long cpu = THREADS.getCurrentThreadCpuTime();
        long bytes = THREADS.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < requests; i++)
        {
            server.request(connections[i % CONNECTIONS]);
            if (queue != null && (i & 31) == 0)
            {
                while (queue.getQueued() > AHEAD)
                    LockSupport.parkNanos(20_000);
            }
        }
        cpu = THREADS.getCurrentThreadCpuTime() - cpu;
        bytes = THREADS.getCurrentThreadAllocatedBytes() - bytes;
        while (queue != null && queue.getQueued() > 0)
            LockSupport.parkNanos(100_000);
        long wall = System.nanoTime() - start;
        // The last event is taken before it is delivered: give the delivery thread a moment.
        Thread.sleep(20);
        if (delivery != null)
        {
            dCpu = THREADS.getThreadCpuTime(delivery.getId()) - dCpu;
            dBytes = THREADS.getThreadAllocatedBytes(delivery.getId()) - dBytes;
        }
        process = OS.getProcessCpuTime() - process;
        long events = 2L * requests;
        if (queue != null && (queue.getDropped() != 0 || queue.getErrors() != 0 || queue.getDelivered() - delivered != events))
            throw new IllegalStateException("dropped " + queue.getDropped() + ", errors " + queue.getErrors() + ", delivered " + (queue.getDelivered() - delivered) + " of " + events);
        return String.format(Locale.ROOT, "reporting %.1f ns %.1f B | delivery %.1f ns %.1f B | wall %.1f ns | process %.1f ns",
            (double)cpu / events, (double)bytes / events, (double)dCpu / events, (double)dBytes / events, (double)wall / events, (double)process / events);
    }

    private static String paced(LocalServer server, LocalConnector.LocalEndPoint[] connections, QueuedListener queue, int requests)
    {
        Thread delivery = deliveryThread(queue);
        long dCpu = delivery == null ? 0 : THREADS.getThreadCpuTime(delivery.getId());
        long process = OS.getProcessCpuTime();
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++)
            server.request(connections[i % CONNECTIONS]);
        while (queue != null && queue.getQueued() > 0)
            Thread.onSpinWait();
        long wall = System.nanoTime() - start;
        process = OS.getProcessCpuTime() - process;
        if (delivery != null)
            dCpu = THREADS.getThreadCpuTime(delivery.getId()) - dCpu;
        if (queue != null && (queue.getDropped() != 0 || queue.getErrors() != 0))
            throw new IllegalStateException("dropped " + queue.getDropped() + ", errors " + queue.getErrors());
        return String.format(Locale.ROOT, "request %.1f ns wall | process %.1f ns | delivery %.1f ns per event",
            (double)wall / requests, (double)process / requests, (double)dCpu / (2.0 * requests));
    }
}
