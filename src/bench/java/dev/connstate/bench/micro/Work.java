package dev.connstate.bench.micro;

import java.lang.management.ManagementFactory;

/**
 * A request's own work for paced measurements: computation that neither allocates nor sleeps,
 * calibrated once per JVM on the thread's CPU time.
 */
final class Work
{
    /** Where results go, so that the computation is not optimized away. */
    static volatile long sink;
    private static long roundsPerMicro;

    private Work()
    {
    }

    /**
     * @param nanos CPU time the work should take, 0 for none
     * @return the rounds of {@link #compute(long)} that take about that long
     */
    static synchronized long roundsFor(long nanos)
    {
        if (nanos <= 0)
            return 0;
        if (roundsPerMicro == 0)
        {
            com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
            for (int i = 0; i < 5; i++)
                sink = compute(10_000_000);
            long cpu = threads.getCurrentThreadCpuTime();
            sink = compute(100_000_000);
            roundsPerMicro = Math.max(1, 100_000_000L * 1000 / (threads.getCurrentThreadCpuTime() - cpu));
        }
        return roundsPerMicro * nanos / 1000;
    }

    static long compute(long rounds)
    {
        long x = sink;
        for (long i = 0; i < rounds; i++)
            x = x * 6364136223846793005L + 1442695040888963407L;
        return x;
    }
}
