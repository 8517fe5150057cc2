package dev.connstate.sink;

import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.time.Instant;

import dev.connstate.Addresses;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.TlsInfo;
import dev.connstate.ConnStateEvent;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class SinksTest
{
    private static ConnStateEvent event(ConnState state, ConnState previous, String protocol)
    {
        return new ConnStateEvent(Instant.parse("2026-11-24T10:15:30.123456Z"), 17,
            new InetSocketAddress("127.0.0.1", 54321), new InetSocketAddress("127.0.0.1", 8080),
            protocol, false, state, previous, 2_500_000, 1, 0, 7_000_000, null, null);
    }

    @Test
    public void jsonRecordIsTheContractsRecord()
    {
        assertEquals("{\"time\":\"2026-11-24T10:15:30.123456Z\",\"id\":17,\"remote\":\"127.0.0.1:54321\",\"local\":\"127.0.0.1:8080\"," +
                "\"state\":\"active\",\"prev\":\"new\",\"protocol\":\"http/1.1\",\"secure\":false,\"prevMs\":2,\"requests\":1,\"ageMs\":7}",
            Json.record(event(ConnState.ACTIVE, ConnState.NEW, "http/1.1")));
        assertTrue(Json.record(event(ConnState.NEW, null, "unknown")).contains("\"prev\":null"));
    }

    @Test
    public void jsonTimeAlwaysHasMicroseconds()
    {
        ConnStateEvent e = new ConnStateEvent(Instant.parse("2026-11-24T10:15:30Z"), 1, null, null, "h2", true, ConnState.NEW, null, 0, 0, 0, 0, null, null);
        assertTrue(Json.record(e).startsWith("{\"time\":\"2026-11-24T10:15:30.000000Z\",\"id\":1,\"remote\":\"-\""), Json.record(e));
    }

    @Test
    public void jsonTimeAcrossSecondsAndMicros()
    {
        for (String t : new String[]{"2026-11-24T10:15:30.000001Z", "2026-11-24T10:15:30.999999Z", "2026-11-24T10:15:31.100000Z", "1999-12-31T23:59:59.123456Z", "2026-11-24T10:15:30.123456Z"})
        {
            StringBuilder out = new StringBuilder();
            Json.time(out, Instant.parse(t));
            assertEquals(t, out.toString());
        }
        StringBuilder out = new StringBuilder();
        Json.time(out, Instant.parse("2026-11-24T10:15:30.123456789Z"));
        assertEquals("2026-11-24T10:15:30.123456Z", out.toString());
    }

    @Test
    public void jsonEscapesAnything()
    {
        StringBuilder json = new StringBuilder();
        Json.string(json, "a\"b\\c\r\nd\u0000\u001f\u007f\u2028x\uD800y\uD83D\uDE00");
        assertEquals("\"a\\\"b\\\\c\\r\\nd\\u0000\\u001f\\u007f\\u2028x\\ud800y\uD83D\uDE00\"", json.toString());
    }

    @Test
    public void closedRecordCarriesReasonAndTls()
    {
        ConnStateEvent e = new ConnStateEvent(Instant.parse("2026-11-24T10:15:30Z"), 1, null, null, "h2", true, ConnState.CLOSED, ConnState.IDLE,
            0, 3, 0, 0, CloseReason.IDLE_TIMEOUT, new TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", "evil\"\r\nhost"));
        assertTrue(Json.record(e).endsWith(",\"reason\":\"idle_timeout\",\"tls\":{\"protocol\":\"TLSv1.3\",\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"sni\":\"evil\\\"\\r\\nhost\"}}"), Json.record(e));
        assertEquals("closed idle_timeout sni=evil\"\\u000d\\u000ahost", new LogSink("x", "{state} {reason} sni={sni}").line(e));
    }

    @Test
    public void ipv6InBrackets()
    {
        // RFC 5952, as Go prints them.
        assertEquals("[::1]:8443", Addresses.format(new InetSocketAddress("::1", 8443)));
        assertEquals("[2001:db8::7]:1234", Addresses.format(new InetSocketAddress("2001:db8:0:0:0:0:0:7", 1234)));
        assertEquals("[2001:db8:0:1:1:1:1:1]:1", Addresses.format(new InetSocketAddress("2001:db8:0:1:1:1:1:1", 1)));
        assertEquals("[2001:0:0:1::1]:1", Addresses.format(new InetSocketAddress("2001:0:0:1:0:0:0:1", 1)));
        assertEquals("[2001:db8::1:0:0:1]:1", Addresses.format(new InetSocketAddress("2001:db8:0:0:1:0:0:1", 1)));
        assertEquals("[::]:80", Addresses.format(new InetSocketAddress("::", 80)));
        assertEquals("[fe80::1]:80", Addresses.format(new InetSocketAddress("fe80::1%1", 80)));
        assertEquals("[::ffff:0:102:304]:80", Addresses.format(new InetSocketAddress("::ffff:0:102:304", 80)));
        assertEquals("-", Addresses.format(null));
    }

    @Test
    public void jsonLinesOneFlushedLinePerEvent()
    {
        StringWriter out = new StringWriter();
        JsonLinesSink sink = new JsonLinesSink(out, true);
        sink.onStateChange(event(ConnState.NEW, null, "http/1.1"), ConnState.NEW);
        sink.onStateChange(event(ConnState.ACTIVE, ConnState.NEW, "http/1.1"), ConnState.ACTIVE);
        String[] lines = out.toString().split("\n", -1);
        assertEquals(3, lines.length);
        assertEquals("", lines[2]);
        assertTrue(lines[1].contains("\"state\":\"active\""));
    }

    @Test
    public void logLineLikeGo()
    {
        assertEquals("Client: 127.0.0.1:54321 - new state: active (id 17)", new LogSink().line(event(ConnState.ACTIVE, ConnState.NEW, "http/1.1")));
        assertEquals("17 new->active http/1.1 false 1 2ms", new LogSink("x", "{id} {prev}->{state} {protocol} {secure} {requests} {prevMs}ms")
            .line(event(ConnState.ACTIVE, ConnState.NEW, "http/1.1")));
    }

    @Test
    public void logLineCannotBeBroken()
    {
        assertEquals("p=h2\\u000d\\u000aFAKE", new LogSink("x", "p={protocol}").line(event(ConnState.NEW, null, "h2\r\nFAKE")));
    }

    @Test
    public void logFormatIsValidated()
    {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> new LogSink("x", "{remote} {nope}"));
        assertTrue(x.getMessage().contains("{nope}"), x.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new LogSink("x", "{remote"));
    }
}
