package dev.connstate.metrics;

import java.util.List;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;

/**
 * The instruments every metrics backend exposes, named once: their names, units, descriptions,
 * attribute keys and histogram boundaries, and how a connection's end becomes {@code error.type}.
 *
 * <p>Names follow OpenTelemetry's semantic conventions where one exists, and mirror the HTTP
 * client's connection metrics ({@code http.client.open_connections},
 * {@code http.client.connection.duration}) where none does. Micrometer keeps the same dotted
 * names; Prometheus turns the dots into underscores.</p>
 */
public final class Instruments
{
    /** Connections open now, by state: an UpDownCounter counted when read. */
    public static final String OPEN_CONNECTIONS = "http.server.open_connections";
    /** How long connections lived, recorded when they close. */
    public static final String CONNECTION_DURATION = "http.server.connection.duration";
    /** How long a connection waited in {@code new} for its first request (or for its close). */
    public static final String TIME_TO_FIRST_REQUEST = "http.server.connection.time_to_first_request";
    /** How long a connection sat {@code idle} before its next request (or its close). */
    public static final String IDLE_TIME = "http.server.connection.idle_time";
    /** How many requests a connection served, recorded when it closes. */
    public static final String REQUESTS = "http.server.connection.requests";
    /** Connections taken over by the application (WebSocket, CONNECT, any 101 upgrade). */
    public static final String HIJACKS = "http.server.connection.hijacks";
    /** Requests that arrived on a connection the server was closing idle, and got no response: keep-alive races. */
    public static final String KEEP_ALIVE_RACES = "http.server.connection.keep_alive_races";
    /** Connections refused at their open by a cap per client (Kestrel: {@code kestrel.rejected_connections}). */
    public static final String REJECTED = "http.server.connection.rejected";
    /** How long TLS handshakes took, from the accept (Kestrel: {@code kestrel.tls_handshake.duration}). */
    public static final String TLS_HANDSHAKE_DURATION = "http.server.connection.tls_handshake.duration";
    /** TLS handshakes in progress now: an UpDownCounter counted when read (Kestrel: {@code kestrel.active_tls_handshakes}). */
    public static final String ACTIVE_TLS_HANDSHAKES = "http.server.active_tls_handshakes";
    /** Events a queued sink or listener dropped (its queue full, or it stopping): a counter read when collected. */
    public static final String LISTENER_DROPPED = "jetty.connstate.listener.dropped";

    public static final String OPEN_CONNECTIONS_DESCRIPTION = "Number of inbound HTTP connections that are currently new (no request yet), active or idle on the server.";
    public static final String CONNECTION_DURATION_DESCRIPTION = "The duration of inbound HTTP connections, from accept to close.";
    public static final String TIME_TO_FIRST_REQUEST_DESCRIPTION = "Time from accept to the first byte of the first request, or to the close of a connection that sent none.";
    public static final String IDLE_TIME_DESCRIPTION = "Time a kept-alive connection waited idle for its next request, or until it closed.";
    public static final String REQUESTS_DESCRIPTION = "Number of requests an inbound HTTP connection served, recorded when it closes.";
    public static final String HIJACKS_DESCRIPTION = "Number of inbound HTTP connections taken over by the application (WebSocket, CONNECT, 101 upgrades).";
    public static final String REJECTED_DESCRIPTION = "Number of inbound connections refused when they opened, because their client was at a cap (error.type = client_limit).";
    public static final String TLS_HANDSHAKE_DURATION_DESCRIPTION = "The duration of TLS handshakes of inbound connections, from accept to the end of the handshake, or to the close of a connection whose handshake did not complete (error.type = the close reason).";
    public static final String ACTIVE_TLS_HANDSHAKES_DESCRIPTION = "Number of TLS handshakes of inbound connections that are currently in progress.";
    public static final String LISTENER_DROPPED_DESCRIPTION = "Number of connection state events a queued sink or listener dropped, because its queue was full or it was stopping.";
    public static final String KEEP_ALIVE_RACES_DESCRIPTION = "Number of requests that arrived on a connection the server was closing idle (keep-alive timeout or drain), refused without a response.";

    /** OpenTelemetry's unit of connection counts (an annotation: Prometheus adds no suffix). */
    public static final String UNIT_CONNECTIONS = "{connection}";
    public static final String UNIT_REQUESTS = "{request}";
    public static final String UNIT_SECONDS = "s";
    public static final String UNIT_HANDSHAKES = "{handshake}";
    public static final String UNIT_EVENTS = "{event}";

    /** The semantic conventions' attribute of {@code http.client.open_connections}; here also {@code new}. */
    public static final String CONNECTION_STATE = "http.connection.state";
    /** Why a connection ended, on closes only: the close reason ({@code idle_timeout}, ...). */
    public static final String ERROR_TYPE = "error.type";
    public static final String PROTOCOL_NAME = "network.protocol.name";
    public static final String PROTOCOL_VERSION = "network.protocol.version";
    public static final String SERVER_PORT = "server.port";
    /** {@code https} on TLS, {@code http} otherwise: how the HTTP server conventions tell TLS. */
    public static final String URL_SCHEME = "url.scheme";
    /** No convention names a server's listener: Jetty's connector name, where it has one. */
    public static final String CONNECTOR_NAME = "jetty.connector.name";
    /** The semantic conventions' TLS version: {@code 1.2}, {@code 1.3}, on a handshake that succeeded. */
    public static final String TLS_PROTOCOL_VERSION = "tls.protocol.version";
    /** The queued sink or listener of {@link #LISTENER_DROPPED}: its queue's name ({@code log-1}, {@code jsonl-2}). */
    public static final String LISTENER_NAME = "jetty.connstate.listener.name";

    /** The advisory boundaries of {@code http.client.connection.duration}, in seconds, for every time histogram here. */
    public static final List<Double> SECONDS_BOUNDARIES = List.of(0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0);
    /**
     * Requests per connection. Micrometer takes no boundary at 0: a connection that sent none is
     * in the first bucket too, and {@link #TIME_TO_FIRST_REQUEST} with an {@code error.type} counts it.
     */
    public static final List<Long> REQUEST_BOUNDARIES = List.of(1L, 2L, 5L, 10L, 20L, 50L, 100L, 200L, 500L, 1000L);

    /** The states {@link #OPEN_CONNECTIONS} counts, in the order of their index. */
    public static final List<ConnState> OPEN_STATES = List.of(ConnState.NEW, ConnState.ACTIVE, ConnState.IDLE);

    /** The outcome of a wait that ended with a request: no {@code error.type}. */
    public static final int REQUEST_CAME = 0;
    /** Outcomes: {@link #REQUEST_CAME}, then one per close reason. */
    public static final int OUTCOMES = 1 + CloseReason.values().length;

    /**
     * The TLS versions {@link #TLS_PROTOCOL_VERSION} tells apart, as Java names them
     * ({@code SSLSession.getProtocol()}), in the order of their index: every version the JDK
     * negotiates over TCP.
     */
    public static final List<String> TLS_PROTOCOLS = List.of("TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3");
    /** The index of a TLS version that is not in {@link #TLS_PROTOCOLS}: no {@link #TLS_PROTOCOL_VERSION}. */
    public static final int TLS_VERSION_UNKNOWN = TLS_PROTOCOLS.size();
    /** TLS version indexes are below this. */
    public static final int TLS_VERSIONS = TLS_PROTOCOLS.size() + 1;

    private static final CloseReason[] REASONS = CloseReason.values();
    /** The value of {@link #TLS_PROTOCOL_VERSION} by index: Java's name without its {@code TLSv}. */
    private static final String[] TLS_VERSION_VALUES = TLS_PROTOCOLS.stream()
        .map(name -> name.startsWith("TLSv") ? name.substring("TLSv".length()) : name)
        .toArray(String[]::new);

    private Instruments()
    {
    }

    /**
     * @param reason why a connection closed
     * @return its outcome index, from 1; {@link #REQUEST_CAME} for {@code null}, which the
     * tracker never reports on {@code closed}
     */
    public static int outcome(CloseReason reason)
    {
        return reason == null ? REQUEST_CAME : 1 + reason.ordinal();
    }

    /**
     * @param outcome an outcome index
     * @return the {@code error.type} it carries: the close reason's name, {@code null} when a request came
     */
    public static String errorType(int outcome)
    {
        return outcome == REQUEST_CAME ? null : REASONS[outcome - 1].toString();
    }

    /**
     * Allocates nothing.
     *
     * @param protocol the TLS version as Java names it ({@code TlsInfo.protocol()}), may be {@code null}
     * @return its index in {@link #TLS_PROTOCOLS}, {@link #TLS_VERSION_UNKNOWN} if it is none of them
     */
    public static int tlsVersion(String protocol)
    {
        int index = protocol == null ? -1 : TLS_PROTOCOLS.indexOf(protocol);
        return index < 0 ? TLS_VERSION_UNKNOWN : index;
    }

    /**
     * @param tlsVersion a TLS version index ({@link #tlsVersion})
     * @return the {@link #TLS_PROTOCOL_VERSION} it carries ({@code 1.3} for {@code TLSv1.3}, {@code SSLv3}
     * for {@code SSLv3}), {@code null} for {@link #TLS_VERSION_UNKNOWN}
     */
    public static String tlsVersionValue(int tlsVersion)
    {
        return tlsVersion == TLS_VERSION_UNKNOWN ? null : TLS_VERSION_VALUES[tlsVersion];
    }

    /**
     * @param state a state
     * @return its index in {@link #OPEN_STATES}, -1 for a terminal state
     */
    public static int openStateIndex(ConnState state)
    {
        return switch (state)
        {
            case NEW -> 0;
            case ACTIVE -> 1;
            case IDLE -> 2;
            case HIJACKED, CLOSED -> -1;
        };
    }
}
