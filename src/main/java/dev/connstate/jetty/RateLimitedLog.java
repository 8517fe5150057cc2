package dev.connstate.jetty;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * Logs a recurring problem at most once per interval, with how many were not logged, so a sink
 * that fails on every event cannot flood the server's log.
 */
final class RateLimitedLog
{
    private final Logger logger;
    private final long intervalNanos;
    private final AtomicLong nextNanos;
    private final AtomicLong suppressed = new AtomicLong();

    RateLimitedLog(Logger logger, long interval, TimeUnit unit)
    {
        this.logger = logger;
        this.intervalNanos = unit.toNanos(interval);
        this.nextNanos = new AtomicLong(System.nanoTime());
    }

    void warn(String message, Object subject, Throwable failure)
    {
        long now = System.nanoTime();
        long next = nextNanos.get();
        if (now - next >= 0 && nextNanos.compareAndSet(next, now + intervalNanos))
        {
            long skipped = suppressed.getAndSet(0);
            if (skipped > 0)
                logger.warn("{} {} ({} similar messages suppressed)", message, subject, skipped, failure);
            else
                logger.warn("{} {}", message, subject, failure);
        }
        else
        {
            suppressed.incrementAndGet();
        }
    }
}
