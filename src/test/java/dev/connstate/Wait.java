package dev.connstate;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Waits for a condition with a bound, through Awaitility, and fails with an
 * {@link AssertionError} that names what was awaited, the bound, and what was seen last.
 *
 * <p>The condition is polled on the waiting thread every 5 ms from the first instant: these
 * waits are on the path of almost every test, and most conditions hold within milliseconds.</p>
 */
public final class Wait
{
    /** The usual bound: generous for a loaded 2-core CI machine, short enough that a hang fails the test. */
    public static final Duration TIMEOUT = Duration.ofSeconds(15);

    private static final Duration POLL = Duration.ofMillis(5);

    private Wait()
    {
    }

    /** Waits until {@code condition} holds, at most {@link #TIMEOUT}. */
    public static void until(String what, BooleanSupplier condition)
    {
        until(what, TIMEOUT, condition);
    }

    /** Waits until {@code condition} holds, at most {@code timeout}. */
    public static void until(String what, Duration timeout, BooleanSupplier condition)
    {
        until(what, timeout, condition::getAsBoolean, held -> held);
    }

    /**
     * Waits until {@code done} accepts what {@code value} supplies, at most {@code timeout}.
     *
     * @return the value that was accepted
     */
    public static <T> T until(String what, Duration timeout, Supplier<T> value, Predicate<? super T> done)
    {
        try
        {
            return factory(what, timeout).until(value::get, done);
        }
        catch (ConditionTimeoutException x)
        {
            throw new AssertionError("Timed out after " + timeout.toMillis() + " ms waiting for " + what + "; last seen: " + value.get(), x);
        }
    }

    private static ConditionFactory factory(String what, Duration timeout)
    {
        return Awaitility.await(what)
            .atMost(timeout)
            .pollDelay(Duration.ZERO)
            .pollInterval(POLL)
            .pollInSameThread();
    }
}
