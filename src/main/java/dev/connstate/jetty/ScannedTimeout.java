package dev.connstate.jetty;

import org.eclipse.jetty.util.annotation.ManagedAttribute;

/**
 * A timeout that the {@link DeadlineScan} enforces: its setting (0 is off), and how often the
 * scan must look for it, a twentieth of it, between 10 ms and 1 s.
 */
public abstract class ScannedTimeout implements DeadlineScan.Deadline
{
    private final String name;
    private volatile long timeoutMillis;
    private volatile Runnable changed = () -> { };

    /** @param name what it is, for the error of a negative value */
    ScannedTimeout(String name)
    {
        this.name = name;
    }

    /** @param changed called when the timeout changes: the scan adapts */
    void onChange(Runnable changed)
    {
        this.changed = changed;
    }

    /** @return the timeout in milliseconds; 0 when off */
    @ManagedAttribute("The timeout in milliseconds; 0: off")
    public long getTimeoutMillis()
    {
        return timeoutMillis;
    }

    /**
     * @param timeoutMillis the timeout in milliseconds; 0 turns it off. Takes effect at once, also
     * while running.
     * @throws IllegalArgumentException if negative
     */
    public void setTimeoutMillis(long timeoutMillis)
    {
        if (timeoutMillis < 0)
            throw new IllegalArgumentException("The " + name + " must not be negative: " + timeoutMillis);
        this.timeoutMillis = timeoutMillis;
        changed.run();
    }

    /** Often enough for the timeout's precision, at most once a second; 0 when off. */
    @Override
    public long scanMillis()
    {
        long timeout = timeoutMillis;
        return timeout == 0 ? 0 : Math.max(10, Math.min(1000, timeout / 20));
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{timeoutMillis=%d}", getClass().getSimpleName(), hashCode(), timeoutMillis);
    }
}
