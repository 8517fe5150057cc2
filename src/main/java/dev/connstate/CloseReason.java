package dev.connstate;

import java.util.Locale;

/**
 * Why a connection reached {@link ConnState#CLOSED}, as far as the server can tell.
 * {@link #toString()} gives the name logs and JSON carry ({@code idle_timeout}, ...).
 */
public enum CloseReason
{
    /** The connection waited (new, or idle with the keep-alive timeout off) for the connector's idle timeout, or a read or write stalled that long. */
    IDLE_TIMEOUT,
    /** The connection stayed idle for the keep-alive timeout ({@code jetty.connstate.keepAliveTimeout}, Kestrel's name). */
    KEEP_ALIVE_TIMEOUT,
    /** A request head was not complete in time ({@code jetty.connstate.requestHeaderTimeout}, Kestrel's name). */
    REQUEST_HEADER_TIMEOUT,
    /** Refused at its accept: its client held as many connections as a cap allows ({@code jetty.connstate.client.*}). */
    CLIENT_LIMIT,
    /** The client closed (or reset) the connection. */
    REMOTE_CLOSE,
    /** The server closed it: a non-persistent response ({@code Connection: close}, HTTP/1.0), shutdown, or {@code closeIdleConnections()}. */
    LOCAL_CLOSE,
    /** The server closed it because of an error: a malformed request, a failed response. */
    ERROR,
    /** The TLS handshake failed (no HTTP was spoken). */
    TLS_HANDSHAKE_FAILED,
    /**
     * A graceful drain closed it: idle when the drain began, {@code new} without a request after
     * the grace period, after its last response (HTTP/1, {@code Connection: close}), or after its
     * last stream (HTTP/2, after a GOAWAY).
     */
    DRAIN,
    /** Still open at the drain's deadline (the server's stop timeout): closed then, whatever it was doing. */
    DRAIN_TIMEOUT;

    private final String label = name().toLowerCase(Locale.ROOT);

    @Override
    public String toString()
    {
        return label;
    }
}
