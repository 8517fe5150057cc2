package dev.connstate.jetty;

import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Turns a {@link System#nanoTime()} reading into wall-clock time without reading the wall clock
 * each time: events are stamped with the time of their transition, which the tracker already
 * holds as nanos, and {@link Instant#now()} costs a Jetty thread more than the rest of a
 * snapshot. The offset between the two clocks is read again once it is a second old, so a
 * stamp is as exact as the wall clock's drift in a second (microseconds) and follows a step of
 * the wall clock (NTP, an operator) within a second.
 */
final class WallClock
{
    private static final long REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static volatile Anchor anchor = Anchor.now();

    private WallClock()
    {
    }

    /**
     * @param nanoTime a {@link System#nanoTime()} reading of the recent past
     * @return the wall-clock time it stands for
     */
    static Instant at(long nanoTime)
    {
        Anchor a = anchor;
        if (nanoTime - a.nanoTime > REFRESH_NANOS)
            anchor = a = Anchor.now();
        return Instant.ofEpochSecond(a.epochSecond, a.nano + (nanoTime - a.nanoTime));
    }

    /** The wall clock ({@code epochSecond}, {@code nano}) read at {@code nanoTime}. */
    private record Anchor(long nanoTime, long epochSecond, long nano)
    {
        static Anchor now()
        {
            Instant wall = Instant.now();
            return new Anchor(System.nanoTime(), wall.getEpochSecond(), wall.getNano());
        }
    }
}
