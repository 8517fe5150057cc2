package dev.connstate.micrometer;

import java.util.concurrent.TimeUnit;

import dev.connstate.metrics.OpenConnectionCounts;

/**
 * The open-connection counts as of the last walk, walked again once they are older than
 * {@value #MAX_AGE_MILLIS} ms: a scrape reads one gauge per state and kind, and they all share
 * one walk instead of walking the connections once each.
 */
final class RecentCounts
{
    static final long MAX_AGE_MILLIS = 100;
    private static final long MAX_AGE_NANOS = TimeUnit.MILLISECONDS.toNanos(MAX_AGE_MILLIS);

    private final OpenConnectionCounts counts;
    private volatile Walk last;

    private record Walk(long nanos, long[] counts)
    {
    }

    RecentCounts(OpenConnectionCounts counts)
    {
        this.counts = counts;
    }

    /**
     * Called by a gauge when a registry reads it (a scrape), never on a Jetty thread.
     *
     * @param index {@link OpenConnectionCounts#index(int, int)}
     * @return the count at that index, at most {@value #MAX_AGE_MILLIS} ms old
     */
    long get(int index)
    {
        long now = System.nanoTime();
        Walk walk = last;
        if (walk == null || now - walk.nanos() > MAX_AGE_NANOS)
        {
            // Two readers at once may both walk: either result is as fresh.
            walk = new Walk(now, counts.count());
            last = walk;
        }
        return walk.counts()[index];
    }
}
