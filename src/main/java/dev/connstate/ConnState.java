package dev.connstate;

import java.util.Locale;

/**
 * The state of one client connection, as Go's {@code net/http.ConnState} defines it.
 *
 * <p>Every TCP connection reports exactly one sequence of states. The sequence starts with
 * {@link #NEW}, ends with exactly one terminal state ({@link #CLOSED} or {@link #HIJACKED}),
 * and never repeats a state twice in a row. The legal transitions are:</p>
 *
 * <pre>
 *   NEW    -&gt; ACTIVE | CLOSED
 *   ACTIVE -&gt; IDLE | CLOSED | HIJACKED
 *   IDLE   -&gt; ACTIVE | CLOSED
 *   HIJACKED, CLOSED: terminal, nothing follows
 * </pre>
 *
 * <p>{@link #toString()} returns Go's lower-case name ({@code "new"}, {@code "active"}, ...),
 * which is also what logs and JSON carry.</p>
 */
public enum ConnState
{
    /** Accepted; expected to send a request. Always first. */
    NEW,
    /** At least one byte of a request was read; reported before the handler runs. */
    ACTIVE,
    /** A request finished and the connection is kept alive for another one. */
    IDLE,
    /** Taken over by the application (WebSocket, servlet upgrade, CONNECT tunnel). Terminal. */
    HIJACKED,
    /** Closed. Terminal. */
    CLOSED;

    private final String goName = name().toLowerCase(Locale.ROOT);

    /**
     * @param next the state to move to
     * @return whether a connection in this state may move to {@code next}
     */
    public boolean canTransitionTo(ConnState next)
    {
        return switch (this)
        {
            case NEW -> next == ACTIVE || next == CLOSED;
            case ACTIVE -> next == IDLE || next == CLOSED || next == HIJACKED;
            case IDLE -> next == ACTIVE || next == CLOSED;
            case HIJACKED, CLOSED -> false;
        };
    }

    /**
     * @return whether nothing can follow this state
     */
    public boolean isTerminal()
    {
        return this == HIJACKED || this == CLOSED;
    }

    /**
     * @param name a Go state name, in any case
     * @return the state
     * @throws IllegalArgumentException if the name is not one of the five states
     */
    public static ConnState of(String name)
    {
        for (ConnState s : values())
        {
            if (s.goName.equalsIgnoreCase(name))
                return s;
        }
        throw new IllegalArgumentException("Unknown connection state '" + name + "' (allowed: new, active, idle, hijacked, closed)");
    }

    /**
     * @return Go's name of the state: {@code new}, {@code active}, {@code idle}, {@code hijacked} or {@code closed}
     */
    @Override
    public String toString()
    {
        return goName;
    }
}
