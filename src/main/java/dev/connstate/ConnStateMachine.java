package dev.connstate;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The state of one connection and the rules of {@link ConnState}: it refuses every transition
 * that {@link ConnState#canTransitionTo(ConnState)} does not allow.
 *
 * <p>Not thread-safe for writers: whoever moves it serializes the moves (the tracker holds the
 * connection's lock). Readers on other threads see the state and when it began as the last
 * move left them (release stores, acquire loads).</p>
 */
public class ConnStateMachine
{
    // Written by the one thread that holds the mover's lock, read by any (JMX, dumps): a release
    // store and an acquire load give readers a consistent state without the full fence a
    // volatile store costs on every transition.
    private static final VarHandle STATE;
    private static final VarHandle SINCE_NANOS;

    static
    {
        try
        {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            STATE = lookup.findVarHandle(ConnStateMachine.class, "state", ConnState.class);
            SINCE_NANOS = lookup.findVarHandle(ConnStateMachine.class, "sinceNanos", long.class);
        }
        catch (ReflectiveOperationException x)
        {
            throw new ExceptionInInitializerError(x);
        }
    }

    private ConnState state = ConnState.NEW;
    private ConnState previous;
    private long sinceNanos;
    private long previousNanos;
    private long longestIdleNanos = -1;
    private long activeNanos;
    private long idleNanos;

    /**
     * Starts in {@link ConnState#NEW}.
     *
     * @param nowNanos {@link System#nanoTime()} at creation
     */
    public ConnStateMachine(long nowNanos)
    {
        this.sinceNanos = nowNanos;
    }

    /**
     * Moves to {@code next} if the rules allow it.
     *
     * @param next the state to enter
     * @param nowNanos {@link System#nanoTime()} now
     * @return whether the state changed; {@code false} leaves everything as it was
     */
    public boolean moveTo(ConnState next, long nowNanos)
    {
        ConnState current = state;
        if (!current.canTransitionTo(next))
            return false;
        previous = current;
        previousNanos = nowNanos - sinceNanos;
        // Kept here, one comparison, so that a listener can read it at the end instead of timing every wait.
        if (current == ConnState.IDLE && next == ConnState.ACTIVE && previousNanos > longestIdleNanos)
            longestIdleNanos = previousNanos;
        // The totals of a connection log's record, two additions instead of a record of every transition.
        if (current == ConnState.ACTIVE)
            activeNanos += previousNanos;
        else if (current == ConnState.IDLE)
            idleNanos += previousNanos;
        SINCE_NANOS.setRelease(this, nowNanos);
        STATE.setRelease(this, next);
        return true;
    }

    /**
     * @return the current state
     */
    public ConnState state()
    {
        return (ConnState)STATE.getAcquire(this);
    }

    /**
     * @return the state before the current one, {@code null} while {@link ConnState#NEW}
     */
    public ConnState previous()
    {
        return previous;
    }

    /**
     * @return nanoseconds spent in {@link #previous()}
     */
    public long previousNanos()
    {
        return previousNanos;
    }

    /**
     * @return the longest time spent in {@link ConnState#IDLE} before a request came, in
     * nanoseconds; -1 while the connection has not gone from idle to active
     */
    public long longestIdleNanos()
    {
        return longestIdleNanos;
    }

    /**
     * @return the time spent in {@link ConnState#ACTIVE}, in nanoseconds, up to the current state
     * (not counting it, if it is {@code active})
     */
    public long activeNanos()
    {
        return activeNanos;
    }

    /**
     * @return the time spent in {@link ConnState#IDLE}, in nanoseconds, up to the current state
     * (not counting it, if it is {@code idle})
     */
    public long idleNanos()
    {
        return idleNanos;
    }

    /**
     * @return {@link System#nanoTime()} when the current state was entered
     */
    public long sinceNanos()
    {
        return (long)SINCE_NANOS.getAcquire(this);
    }
}
