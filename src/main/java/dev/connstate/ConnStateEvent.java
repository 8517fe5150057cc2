package dev.connstate;

import java.net.SocketAddress;
import java.time.Instant;

/**
 * One transition of one connection, as an immutable record: what queued listeners and sinks
 * receive, and what the JSON Lines sink writes.
 *
 * @param time when the transition happened
 * @param id the connection id, unique within the JVM
 * @param remote the client's address
 * @param local the server socket's address
 * @param protocol the application protocol at the time ({@code http/1.1}, {@code http/1.0},
 * {@code h2}, {@code h2c} or {@code unknown})
 * @param secure whether the connection is TLS
 * @param state the state entered
 * @param previous the state left, {@code null} on {@link ConnState#NEW}
 * @param previousNanos time spent in {@code previous}, in nanoseconds
 * @param requests requests begun so far on the connection
 * @param openedAtMillis when the connection was accepted, in milliseconds since the epoch
 * @param ageNanos how old the connection was at the transition, in nanoseconds
 * @param longestIdleNanos the longest the connection sat idle before a request came, in
 * nanoseconds; -1 if no request came after an idle wait yet
 * @param reason why it closed, on {@link ConnState#CLOSED}; {@code null} otherwise
 * @param race on {@link ConnState#CLOSED}, whether a request raced the close: the client sent it
 * after the server began to close the connection idle, and got no response; {@code false} otherwise
 * @param tls what the TLS handshake settled, {@code null} before it completed or without TLS
 * @param totals on {@link ConnState#CLOSED} and {@link ConnState#HIJACKED}, what the connection did
 * over its life; {@code null} otherwise
 */
public record ConnStateEvent(
    Instant time,
    long id,
    SocketAddress remote,
    SocketAddress local,
    String protocol,
    boolean secure,
    ConnState state,
    ConnState previous,
    long previousNanos,
    long requests,
    long openedAtMillis,
    long ageNanos,
    long longestIdleNanos,
    CloseReason reason,
    boolean race,
    TlsInfo tls,
    ConnTotals totals) implements ConnInfo
{
    /**
     * An event without totals: a transition to a state that is not terminal.
     */
    public ConnStateEvent(Instant time, long id, SocketAddress remote, SocketAddress local, String protocol, boolean secure,
                          ConnState state, ConnState previous, long previousNanos, long requests, long openedAtMillis,
                          long ageNanos, long longestIdleNanos, CloseReason reason, boolean race, TlsInfo tls)
    {
        this(time, id, remote, local, protocol, secure, state, previous, previousNanos, requests, openedAtMillis, ageNanos,
            longestIdleNanos, reason, race, tls, null);
    }

    /**
     * @return a copy of {@code conn}'s facts stamped with the current time; {@code conn} itself
     * if it already is an event
     */
    public static ConnStateEvent of(ConnInfo conn)
    {
        if (conn instanceof ConnStateEvent event)
            return event;
        return new ConnStateEvent(Instant.now(), conn.id(), conn.remote(), conn.local(), conn.protocol(), conn.secure(),
            conn.state(), conn.previous(), conn.previousNanos(), conn.requests(), conn.openedAtMillis(), conn.ageNanos(),
            conn.longestIdleNanos(), conn.reason(), conn.race(), conn.tls(), conn.totals());
    }

    @Override
    public ConnStateEvent snapshot()
    {
        return this;
    }

    /**
     * @return time spent in the previous state, in milliseconds
     */
    public long previousMillis()
    {
        return previousNanos / 1_000_000L;
    }

    /**
     * @return how old the connection was at the transition, in milliseconds
     */
    public long ageMillis()
    {
        return ageNanos / 1_000_000L;
    }
}
