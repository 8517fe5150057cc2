package dev.connstate.jetty;

import java.time.Duration;
import java.time.Instant;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

public class WallClockTest
{
    @Test
    public void nanosBecomeTheWallClockTime()
    {
        for (int i = 0; i < 1000; i++)
        {
            Instant before = Instant.now();
            Instant stamped = WallClock.at(System.nanoTime());
            Instant after = Instant.now();
            // Within the clocks' drift since the anchor (at most a second old): far less than 5 ms.
            assertTrue(!stamped.isBefore(before.minusMillis(5)) && !stamped.isAfter(after.plusMillis(5)), before + " <= " + stamped + " <= " + after);
        }
        // A time in the past is in the past by as much.
        long now = System.nanoTime();
        Duration gap = Duration.between(WallClock.at(now - 2_000_000_000L), WallClock.at(now));
        // (The anchor may be read again between the two: the clocks' drift since, microseconds at most.)
        assertTrue(gap.minusSeconds(2).abs().toMillis() < 1, gap.toString());
    }
}
