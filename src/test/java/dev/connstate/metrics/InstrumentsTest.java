package dev.connstate.metrics;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

public class InstrumentsTest
{
    /** OpenTelemetry's {@code tls.protocol.version}: Java's name without its {@code TLSv}; a name Java never gives, none. */
    @Test
    public void tlsProtocolVersionIsJavasNameWithoutTlsv()
    {
        List<String> values = Arrays.asList(tlsVersionValue("TLSv1.3"), tlsVersionValue("TLSv1.2"), tlsVersionValue("TLSv1.1"),
            tlsVersionValue("TLSv1"), tlsVersionValue("SSLv3"), tlsVersionValue("NONE"), tlsVersionValue(null));
        assertEquals(Arrays.asList("1.3", "1.2", "1.1", "1", "SSLv3", null, null), values);
        assertEquals(Instruments.TLS_VERSION_UNKNOWN, Instruments.tlsVersion("TLSv9"));
    }

    private static String tlsVersionValue(String protocol)
    {
        return Instruments.tlsVersionValue(Instruments.tlsVersion(protocol));
    }
}
