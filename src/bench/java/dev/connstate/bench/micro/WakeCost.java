package dev.connstate.bench.micro;

import java.lang.management.ManagementFactory;
import java.util.concurrent.locks.LockSupport;

/**
 * What waking a sink's delivery thread costs that thread, in CPU time per wake-up, on a core
 * where another thread is busy (as Jetty's are): woken by its own timer ({@code timed}: it
 * parks for 1 ms, as the queues used to between batches) or by the busy thread
 * ({@code unparked}: the busy thread unparks it every millisecond, as a Jetty thread does when
 * a batch is full, while it parks for up to 100 ms).
 *
 * <pre>
 *   taskset -c 1 java -cp CLASSPATH dev.connstate.bench.micro.WakeCost timed|unparked [seconds]
 * </pre>
 *
 * <p>Pin it to one core: both threads must share it. Each pass prints the wake-ups and the
 * parked thread's CPU time per wake-up (its own time: the kernel's work to arm the timer, switch
 * to it and back, included); the first pass is warm-up.</p>
 */
public final class WakeCost
{
    private static volatile Thread parked;

    private WakeCost()
    {
    }

    public static void main(String[] args)
    {
        String mode = args.length > 0 ? args[0] : "timed";
        if (!mode.equals("timed") && !mode.equals("unparked"))
            throw new IllegalArgumentException("Unknown mode '" + mode + "' (timed, unparked)");
        long seconds = args.length > 1 ? Long.parseLong(args[1]) : 3;
        boolean timed = mode.equals("timed");
        parked = Thread.currentThread();
        Thread busy = new Thread(() ->
        {
            long last = System.nanoTime();
            while (true)
            {
                long now = System.nanoTime();
                if (!timed && now - last >= 1_000_000)
                {
                    last = now;
                    LockSupport.unpark(parked);
                }
            }
        }, "busy");
        busy.setDaemon(true);
        busy.start();
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        long park = timed ? 1_000_000 : 100_000_000;
        for (int pass = 1; pass <= 4; pass++)
        {
            long cpu = threads.getCurrentThreadCpuTime();
            long start = System.nanoTime();
            long wakeUps = 0;
            while (System.nanoTime() - start < seconds * 1_000_000_000L)
            {
                LockSupport.parkNanos(park);
                wakeUps++;
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            System.out.printf("%s pass %d/4: %d wake-ups (%.0f/s), %.2f us of the parked thread's CPU each%n", mode, pass, wakeUps,
                wakeUps / elapsed, (threads.getCurrentThreadCpuTime() - cpu) / 1e3 / wakeUps);
        }
    }
}
