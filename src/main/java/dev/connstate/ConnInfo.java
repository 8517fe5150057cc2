package dev.connstate;

import java.net.SocketAddress;

/**
 * What a {@link ConnStateListener} can read about a connection: Go passes the
 * {@code net.Conn}, this passes its facts.
 *
 * <p>An inline listener receives the live, tracked connection: its values are consistent for the
 * duration of the call and change afterwards. A queued listener receives a
 * {@link ConnStateEvent}, an immutable snapshot taken at the transition. Call
 * {@link #snapshot()} to keep the facts beyond the call.</p>
 */
public interface ConnInfo
{
    /**
     * @return the connection id: unique within the JVM, the same for every event of one connection
     */
    long id();

    /**
     * @return the client's address; with the PROXY protocol, the proxied client once the PROXY
     * header has been read
     */
    SocketAddress remote();

    /**
     * @return the server socket's address
     */
    SocketAddress local();

    /**
     * @return {@link #remote()} as Go prints it: {@code ip:port}, {@code [v6]:port}
     */
    default String remoteAddress()
    {
        return Addresses.format(remote());
    }

    /**
     * @return {@link #local()} as Go prints it: {@code ip:port}, {@code [v6]:port}
     */
    default String localAddress()
    {
        return Addresses.format(local());
    }

    /**
     * @return the application protocol at the time: {@code http/1.1}, {@code http/1.0},
     * {@code h2}, {@code h2c}, or {@code unknown} before it is known
     */
    String protocol();

    /**
     * @return whether the connection is TLS
     */
    boolean secure();

    /**
     * @return how many requests the connection has begun so far, including the current one
     */
    long requests();

    /**
     * @return when the connection was accepted, in milliseconds since the epoch
     */
    long openedAtMillis();

    /**
     * @return the state the connection is in (the one just entered, during a listener call)
     */
    ConnState state();

    /**
     * @return the state before {@link #state()}, or {@code null} when the state is {@link ConnState#NEW}
     */
    ConnState previous();

    /**
     * @return how long the connection stayed in {@link #previous()}, in nanoseconds (0 on {@code new})
     */
    long previousNanos();

    /**
     * @return the longest the connection sat {@link ConnState#IDLE} before a request came, in
     * nanoseconds (on HTTP/2, with no stream open); -1 while no request came after an idle wait.
     * How close its client came to the keep-alive timeout before reusing it.
     */
    long longestIdleNanos();

    /**
     * @return how old the connection is (at the transition, for an event), in nanoseconds
     */
    long ageNanos();

    /**
     * @return why the connection closed, on {@link ConnState#CLOSED}; {@code null} in any other state
     */
    CloseReason reason();

    /**
     * @return on {@link ConnState#CLOSED}, whether a request raced the close: its client sent it
     * after the server began to close the connection idle (keep-alive timeout or drain), and got
     * no response (a load balancer answers 502 then); the request never reached a handler.
     * {@code false} in any other state
     */
    boolean race();

    /**
     * @return what the TLS handshake settled, once it has completed; {@code null} before, and
     * for plain connections
     */
    TlsInfo tls();

    /**
     * @return what the connection did over its life, on {@link ConnState#CLOSED} and
     * {@link ConnState#HIJACKED} (on a hijack, up to the hijack); {@code null} in any other state
     */
    ConnTotals totals();

    /**
     * @return an immutable copy of these facts; a tracked connection's copy is stamped with the
     * time of its last transition
     */
    ConnStateEvent snapshot();
}
