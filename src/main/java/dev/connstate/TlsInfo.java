package dev.connstate;

/**
 * What the TLS handshake of a connection settled.
 *
 * @param protocol the TLS version, e.g. {@code TLSv1.3}
 * @param cipherSuite the cipher suite, e.g. {@code TLS_AES_128_GCM_SHA256}
 * @param sniHost the server name the client asked for (SNI), or {@code null}; sent by the client, so
 * treat it as untrusted text (the sinks escape it)
 * @param handshakeNanos how long the handshake took, from the accept to its end, in nanoseconds
 * (as Kestrel's {@code tls_handshake.duration}: the wait for the client's hello counts); -1 if unknown
 */
public record TlsInfo(String protocol, String cipherSuite, String sniHost, long handshakeNanos)
{
    /**
     * A handshake of unknown duration.
     */
    public TlsInfo(String protocol, String cipherSuite, String sniHost)
    {
        this(protocol, cipherSuite, sniHost, -1);
    }
}
