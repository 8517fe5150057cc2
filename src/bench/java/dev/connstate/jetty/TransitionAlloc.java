package dev.connstate.jetty;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

import dev.connstate.ConnState;
import dev.connstate.ConnStateListener;
import org.eclipse.jetty.io.ByteArrayEndPoint;
import org.eclipse.jetty.server.Server;

/**
 * Bytes allocated per transition on the counting path, in process: the tracker's
 * {@code transition} (state machine, gauges, inline listeners) for a live connection with one
 * inline counting listener, the way {@link JettyEvents} calls it. Lives in the tracker's package
 * (bench sources only) to reach the package-private registry methods.
 */
public final class TransitionAlloc
{
    private TransitionAlloc()
    {
    }

    public static List<String> measure()
    {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        ConnStateTracker tracker = new ConnStateTracker(new Server());
        LongAdder counted = new LongAdder();
        ConnStateListener counter = (conn, state) -> counted.increment();
        tracker.addInlineListener(counter);
        ByteArrayEndPoint endPoint = new ByteArrayEndPoint();
        List<String> lines = new ArrayList<>();

        // Keep-alive: active, idle, active, idle, ... on one connection.
        TrackedConnection conn = tracker.newConnection(endPoint);
        synchronized (conn)
        {
            tracker.register(conn);
            tracker.announceNew(conn);
        }
        int n = 2_000_000;
        long bytes = 0;
        long nanos = 0;
        for (int pass = 0; pass < 5; pass++)
        {
            long start = System.nanoTime();
            bytes = keepAlive(tracker, conn, n, threads);
            nanos = System.nanoTime() - start;
        }
        lines.add(String.format("transition (active/idle pairs on a live connection, %d transitions, after 4 warm-up passes): %.3f bytes/transition, %.1f ns/transition (one thread, uncontended lock)",
            2L * n, (double)bytes / (2L * n), (double)nanos / (2L * n)));

        // A whole connection's life: register, new, active, closed, forget.
        int m = 200_000;
        for (int pass = 0; pass < 5; pass++)
            bytes = lifecycle(tracker, endPoint, m, threads);
        lines.add(String.format("connection lifecycle (register, new, active, closed, forget; %d connections): %.1f bytes/connection = TrackedConnection + registry entry", m, (double)bytes / m));
        if (counted.sum() == 0)
            throw new AssertionError("listener not called");
        return lines;
    }

    private static long keepAlive(ConnStateTracker tracker, TrackedConnection conn, int n, com.sun.management.ThreadMXBean threads)
    {
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < n; i++)
        {
            synchronized (conn)
            {
                tracker.transition(conn, ConnState.ACTIVE);
                tracker.transition(conn, ConnState.IDLE);
            }
        }
        return threads.getCurrentThreadAllocatedBytes() - before;
    }

    private static long lifecycle(ConnStateTracker tracker, ByteArrayEndPoint endPoint, int m, com.sun.management.ThreadMXBean threads)
    {
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < m; i++)
        {
            TrackedConnection c = tracker.newConnection(endPoint);
            synchronized (c)
            {
                tracker.register(c);
                tracker.announceNew(c);
                tracker.transition(c, ConnState.ACTIVE);
                tracker.transition(c, ConnState.CLOSED);
                tracker.forget(c);
            }
        }
        return threads.getCurrentThreadAllocatedBytes() - before;
    }
}
