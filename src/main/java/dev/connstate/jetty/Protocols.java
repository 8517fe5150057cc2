package dev.connstate.jetty;

import org.eclipse.jetty.http.HttpVersion;
import org.eclipse.jetty.server.Connector;

/**
 * Names a connection's application protocol as the contract writes it, from the HTTP version
 * Jetty reports: {@code http/1.0}, {@code http/1.1}, {@code h2}, {@code h2c}, {@code h3}.
 */
final class Protocols
{
    /** Before the first request line (HTTP/1) or the session (HTTP/2) says which. */
    static final String UNKNOWN = "unknown";

    private Protocols()
    {
    }

    /**
     * @return whether {@code version} carries concurrent streams on one connection (HTTP/2, HTTP/3),
     * whose requests {@link Http2Streams} counts
     */
    static boolean isMultiplexed(HttpVersion version)
    {
        return version == HttpVersion.HTTP_2 || version == HttpVersion.HTTP_3;
    }

    /**
     * @return whether {@code connector} serves HTTP/3: over QUIC, whose connections are sessions
     * that Jetty's connection listeners never hear, so it is not tracked
     */
    static boolean speaksHttp3(Connector connector)
    {
        for (String protocol : connector.getProtocols())
        {
            if (protocol.startsWith("h3"))
                return true;
        }
        return false;
    }

    /**
     * @param version the HTTP version, {@code null} if unknown yet
     * @param secure whether the connection is TLS (HTTP/2 is {@code h2} there, {@code h2c} in clear text)
     * @return the protocol's name
     */
    static String of(HttpVersion version, boolean secure)
    {
        if (version == null)
            return UNKNOWN;
        return switch (version)
        {
            case HTTP_1_0 -> "http/1.0";
            case HTTP_1_1 -> "http/1.1";
            case HTTP_2 -> secure ? "h2" : "h2c";
            case HTTP_3 -> "h3";
            default -> UNKNOWN;
        };
    }
}
