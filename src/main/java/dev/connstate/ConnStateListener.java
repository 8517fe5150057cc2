package dev.connstate;

/**
 * Go's {@code Server.ConnState func(net.Conn, ConnState)} in Java: called once for every state
 * change of every tracked connection.
 *
 * <p>For one connection, calls come in the order of its transitions: {@link ConnState#NEW}
 * first, then any legal sequence (see {@link ConnState}), then exactly one terminal state.
 * Calls for different connections may come concurrently.</p>
 *
 * <p>Where and when it runs depends on how it was registered with the tracker:</p>
 * <ul>
 *   <li><em>queued</em> (the default for user code): on the listener's own daemon thread,
 *   shortly after the transition, with an immutable {@link ConnStateEvent} as {@code conn}.
 *   A listener that is slow, blocks or throws never delays the server: its queue drops
 *   events (counted) when full.</li>
 *   <li><em>inline</em> (opt-in, for cheap in-memory work such as counters): on the Jetty
 *   thread that caused the transition (a selector, acceptor or request thread), while the
 *   connection's transitions are serialized, with the live connection as {@code conn}. It must
 *   not block, do I/O, or allocate much. Exceptions are caught and counted, never thrown into
 *   Jetty.</li>
 * </ul>
 */
@FunctionalInterface
public interface ConnStateListener
{
    /**
     * @param conn the connection and the facts of this transition
     * @param state the state just entered (equal to {@code conn.state()})
     */
    void onStateChange(ConnInfo conn, ConnState state);

    /**
     * Whether this listener is called on transitions to {@code state}: a listener that wants
     * only a few states (a connection log wants the terminal ones) costs the others nothing, not
     * even their event. The answer must not change: a queued listener is asked once per state when
     * it is added, an inline one before each call. By default, every state.
     *
     * @param state a state
     * @return whether {@link #onStateChange(ConnInfo, ConnState)} is called with it
     */
    default boolean wants(ConnState state)
    {
        return true;
    }
}
