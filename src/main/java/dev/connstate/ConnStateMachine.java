package dev.connstate;

/**
 * The state of one connection and the rules of {@link ConnState}: it refuses every transition
 * that {@link ConnState#canTransitionTo(ConnState)} does not allow.
 *
 * <p>Not thread-safe for writers: whoever moves it serializes the moves (the tracker holds the
 * connection's lock). Readers on other threads see the latest state through volatile reads.</p>
 */
public class ConnStateMachine
{
    private volatile ConnState state = ConnState.NEW;
    private ConnState previous;
    private volatile long sinceNanos;
    private long previousNanos;

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
        sinceNanos = nowNanos;
        state = next;
        return true;
    }

    /**
     * @return the current state
     */
    public ConnState state()
    {
        return state;
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
     * @return {@link System#nanoTime()} when the current state was entered
     */
    public long sinceNanos()
    {
        return sinceNanos;
    }
}
