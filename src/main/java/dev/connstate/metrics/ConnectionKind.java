package dev.connstate.metrics;

/**
 * The attribute values that connections of one kind carry in every instrument.
 *
 * @param port the port of the connector that accepted the connection ({@code server.port}), -1 if unknown
 * @param secure whether the connection is TLS ({@code url.scheme} {@code https})
 * @param protocolVersion the HTTP version ({@code network.protocol.version}: {@code 1.0},
 * {@code 1.1}, {@code 2}, {@code 3}), {@code null} before it is known
 * @param connectorName the connector's name ({@code jetty.connector.name}), {@code null} if it has none
 */
public record ConnectionKind(int port, boolean secure, String protocolVersion, String connectorName)
{
    /**
     * @return {@code https} on TLS, {@code http} otherwise
     */
    public String scheme()
    {
        return secure ? "https" : "http";
    }

    /**
     * @return {@code http} once the version is known ({@code network.protocol.name}), {@code null} before
     */
    public String protocolName()
    {
        return protocolVersion == null ? null : "http";
    }
}
