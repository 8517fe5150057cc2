package dev.connstate.sink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.connstate.Addresses;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.TlsInfo;
import dev.connstate.ConnStateEvent;
import dev.connstate.stress.JsonLinesCheck;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class SinksTest
{
    /** The contract's time, by the JDK's formatter: microseconds, truncated. */
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private static ConnStateEvent event(ConnState state, ConnState previous, String protocol)
    {
        return new ConnStateEvent(Instant.parse("2026-11-24T10:15:30.123456Z"), 17,
            new InetSocketAddress("127.0.0.1", 54321), new InetSocketAddress("127.0.0.1", 8080),
            protocol, false, state, previous, 2_500_000, 1, 0, 7_000_000, -1, null, false, null);
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
        ConnStateEvent e = new ConnStateEvent(Instant.parse("2026-11-24T10:15:30Z"), 1, null, null, "h2", true, ConnState.NEW, null, 0, 0, 0, 0, -1, null, false, null);
        assertTrue(Json.record(e).startsWith("{\"time\":\"2026-11-24T10:15:30.000000Z\",\"id\":1,\"remote\":\"-\""), Json.record(e));
    }

    @Test
    public void jsonTimeAcrossSecondsAndMicros()
    {
        // One writer across seconds (it keeps the formatted second) and a new one for each time.
        Json writer = new Json();
        for (String t : new String[]{"2026-11-24T10:15:30.000001Z", "2026-11-24T10:15:30.999999Z", "2026-11-24T10:15:31.100000Z", "1999-12-31T23:59:59.123456Z", "2026-11-24T10:15:30.123456Z"})
        {
            writer.clear();
            assertEquals("\"" + t + "\"", writer.time(Instant.parse(t)).toString());
            assertEquals("\"" + t + "\"", new Json().time(Instant.parse(t)).toString());
            ConnStateEvent e = new ConnStateEvent(Instant.parse(t), 1, null, null, "h2", true, ConnState.NEW, null, 0, 0, 0, 0, -1, null, false, null);
            assertTrue(Json.record(e).startsWith("{\"time\":\"" + t + "\",\"id\":1,"), Json.record(e));
        }
        assertEquals("\"2026-11-24T10:15:30.123456Z\"", new Json().time(Instant.parse("2026-11-24T10:15:30.123456789Z")).toString());
    }

    @Test
    public void jsonEscapesAnything()
    {
        String hostile = "a\"b\\c\r\nd\t\u0000\u001f\u007f\u2028\u2029x\uD800y\uDC00\uD83D\uDE00/<\u00e9\u0800\uFFFF";
        String json = new Json().string(hostile).toString();
        // JSON's short escapes where it has them, hex escapes for the other controls, separators and
        // unpaired surrogates, and UTF-8 for the rest.
        assertEquals("\"a\\\"b\\\\c\\r\\nd\\t\\u0000\\u001f\\u007f\\u2028\\u2029x\\ud800y\\udc00\uD83D\uDE00/<\u00e9\u0800\uFFFF\"", json);
        // Jetty's parser reads back the very string.
        assertEquals(hostile, JsonLinesCheck.parse(json, "hostile string"));
        assertEquals("null", new Json().string(null).toString());
        assertNull(JsonLinesCheck.parse(new Json().string(null).toString(), "null"));
    }

    @Test
    public void jsonValuesRoundTrip()
    {
        // What the table is made of: every value read back by a real parser.
        Json json = new Json(1);
        json.raw("{\"n\":").number(Long.MIN_VALUE).raw(",\"m\":").number(Long.MAX_VALUE).raw(",\"z\":").number(0)
            .raw(",\"t\":").bool(true).raw(",\"f\":").bool(false).raw(",\"s\":").string("[::1]:8443")
            .raw(",\"u\":").string(null).raw("}");
        Map<String, Object> parsed = JsonLinesCheck.parseObject(json.toString(), "values");
        Map<String, Object> expected = new LinkedHashMap<>();
        expected.put("n", Long.MIN_VALUE);
        expected.put("m", Long.MAX_VALUE);
        expected.put("z", 0L);
        expected.put("t", true);
        expected.put("f", false);
        expected.put("s", "[::1]:8443");
        expected.put("u", null);
        assertEquals(expected, parsed);
        assertEquals(List.copyOf(expected.keySet()), List.copyOf(parsed.keySet()));
        // Raw text is the caller's JSON, ASCII only.
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, () -> new Json().raw("{\"\u00e9\":"));
        assertEquals("Not ASCII at 2: '{\"\u00e9\":'", x.getMessage());
    }

    @Test
    public void closedRecordCarriesReasonAndTls()
    {
        ConnStateEvent e = new ConnStateEvent(Instant.parse("2026-11-24T10:15:30Z"), 1, null, null, "h2", true, ConnState.CLOSED, ConnState.IDLE,
            0, 3, 0, 0, -1, CloseReason.IDLE_TIMEOUT, false, new TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", "evil\"\r\nhost"));
        assertTrue(Json.record(e).endsWith(",\"reason\":\"idle_timeout\",\"tls\":{\"protocol\":\"TLSv1.3\",\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"sni\":\"evil\\\"\\r\\nhost\"}}"), Json.record(e));
        assertEquals("closed idle_timeout sni=evil\"\\u000d\\u000ahost", new LogSink("x", "{state} {reason} sni={sni}").line(e));
    }

    @Test
    public void aRaceIsOnTheClosedRecordAfterItsReason()
    {
        ConnStateEvent e = new ConnStateEvent(Instant.parse("2026-11-24T10:15:30Z"), 1, null, null, "http/1.1", false, ConnState.CLOSED, ConnState.IDLE,
            0, 3, 0, 0, -1, CloseReason.KEEP_ALIVE_TIMEOUT, true, null);
        assertTrue(Json.record(e).endsWith(",\"ageMs\":0,\"reason\":\"keep_alive_timeout\",\"race\":true}"), Json.record(e));
        assertEquals("closed keep_alive_timeout race=true", new LogSink("x", "{state} {reason} race={race}").line(e));
        ConnStateEvent calm = new ConnStateEvent(Instant.parse("2026-11-24T10:15:30Z"), 1, null, null, "http/1.1", false, ConnState.CLOSED, ConnState.IDLE,
            0, 3, 0, 0, -1, CloseReason.KEEP_ALIVE_TIMEOUT, false, null);
        assertFalse(Json.record(calm).contains("race"), Json.record(calm));
        assertEquals("race=false", new LogSink("x", "race={race}").line(calm));
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
    public void addressTextIsMadeOncePerAddressObject() throws Exception
    {
        InetSocketAddress address = new InetSocketAddress("10.1.2.3", 4567);
        String text = Addresses.format(address);
        assertEquals("10.1.2.3:4567", text);
        assertSame(text, Addresses.format(address), "the text made once, shared");
        assertEquals("10.1.2.3:4567", new ConnStateEvent(Instant.EPOCH, 1, address, address, "h2", false, ConnState.NEW, null, 0, 0, 0, 0, -1, null, false, null).remoteAddress());

        // Ten times more addresses than the table keeps, equal ones among them, from four
        // threads in random orders: every text is its own address's.
        List<InetSocketAddress> addresses = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 20_000; i++)
        {
            int port = 1000 + i % 7;
            addresses.add(i % 3 == 0 ? new InetSocketAddress("2001:db8::" + Integer.toHexString(1 + i % 5000), port) : new InetSocketAddress("10.0." + (i % 5000) / 250 + "." + i % 250, port));
            texts.add(i % 3 == 0 ? "[2001:db8::" + Integer.toHexString(1 + i % 5000) + "]:" + port : "10.0." + (i % 5000) / 250 + "." + i % 250 + ":" + port);
        }
        List<String> wrong = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 4; t++)
        {
            Random random = new Random(t);
            threads.add(new Thread(() ->
            {
                for (int k = 0; k < 200_000; k++)
                {
                    int i = random.nextInt(random.nextBoolean() ? 64 : addresses.size());
                    String made = Addresses.format(addresses.get(i));
                    if (!made.equals(texts.get(i)) && wrong.size() < 10)
                        wrong.add(addresses.get(i) + " -> " + made + ", not " + texts.get(i));
                }
            }));
        }
        for (Thread thread : threads)
            thread.start();
        for (Thread thread : threads)
            thread.join(60_000);
        for (Thread thread : threads)
            assertFalse(thread.isAlive(), "a lookup thread still running");
        assertEquals(List.of(), wrong);
    }

    @Test
    public void plainAddressTextIsCopiedAsItIs()
    {
        InetSocketAddress address = new InetSocketAddress("10.1.2.3", 4567);
        byte[] into = new byte[16];
        assertEquals(13, Addresses.copyPlain(address, into, 3));
        assertEquals("10.1.2.3:4567", new String(into, 3, 13, StandardCharsets.US_ASCII));
        assertEquals(-1, Addresses.copyPlain(address, new byte[15], 3), "does not fit");
        // Text that a writer must escape is never copied as it is.
        for (SocketAddress other : new SocketAddress[]{InetSocketAddress.createUnresolved("evil\"host", 1), InetSocketAddress.createUnresolved("back\\slash", 1),
            InetSocketAddress.createUnresolved("line\nbreak", 1), InetSocketAddress.createUnresolved("del\u007f", 1), InetSocketAddress.createUnresolved("caf\u00e9", 1),
            UnixDomainSocketAddress.of("/tmp/sock"), null})
        {
            assertEquals(-1, Addresses.copyPlain(other, new byte[64], 0), String.valueOf(other));
        }
        assertEquals("evil\"host:1", Addresses.format(InetSocketAddress.createUnresolved("evil\"host", 1)));
        assertEquals("plain.example:1", new String(into, 0, Addresses.copyPlain(InetSocketAddress.createUnresolved("plain.example", 1), into, 0), StandardCharsets.US_ASCII));
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

    @Test
    public void jsonLinesFileRoundTripsEveryValue(@TempDir Path dir) throws IOException
    {
        // The sink writes its lines into one buffer, across events and flushes: every line must
        // be the record of its event alone, and Jetty's parser must read back every value,
        // whatever the strings, times, numbers and addresses.
        Random random = new Random(5);
        List<ConnStateEvent> events = randomEvents(random, 20_000);
        Path file = dir.resolve("all.jsonl");
        JsonLinesSink sink = new JsonLinesSink(file);
        ByteArrayOutputStream records = new ByteArrayOutputStream();
        for (ConnStateEvent e : events)
        {
            records.write(Json.record(e).getBytes(StandardCharsets.UTF_8));
            records.write('\n');
            sink.onStateChange(e, e.state());
            if (random.nextInt(1000) == 0)
                sink.flush();
        }
        sink.close();
        byte[] bytes = Files.readAllBytes(file);
        assertArrayEquals(records.toByteArray(), bytes);
        String[] lines = JsonLinesCheck.utf8(bytes, file.toString()).split("\n", -1);
        assertEquals(events.size() + 1, lines.length);
        assertEquals("", lines[events.size()]);
        for (int i = 0; i < events.size(); i++)
        {
            ConnStateEvent e = events.get(i);
            Map<String, Object> record = JsonLinesCheck.line(lines[i], file + ":" + (i + 1));
            Map<String, Object> expected = values(e);
            assertEquals(expected, record, lines[i]);
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(record.keySet()), lines[i]);
        }
    }

    /** The record's values, in the record's order, as a JSON parser gives them. */
    private static Map<String, Object> values(ConnStateEvent e)
    {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("time", MICROS.format(e.time()));
        values.put("id", e.id());
        values.put("remote", e.remoteAddress());
        values.put("local", e.localAddress());
        values.put("state", e.state().toString());
        values.put("prev", e.previous() == null ? null : e.previous().toString());
        values.put("protocol", e.protocol());
        values.put("secure", e.secure());
        values.put("prevMs", e.previousMillis());
        values.put("requests", e.requests());
        values.put("ageMs", e.ageMillis());
        if (e.reason() != null)
            values.put("reason", e.reason().toString());
        if (e.reason() != null && e.race())
            values.put("race", true);
        if (e.tls() != null)
        {
            Map<String, Object> tls = new LinkedHashMap<>();
            tls.put("protocol", e.tls().protocol());
            tls.put("cipher", e.tls().cipherSuite());
            tls.put("sni", e.tls().sniHost());
            values.put("tls", tls);
        }
        return values;
    }

    @Test
    public void jsonLinesFlushWritesEverythingOut(@TempDir Path dir) throws IOException
    {
        Path file = dir.resolve("flush.jsonl");
        JsonLinesSink sink = new JsonLinesSink(file);
        ConnStateEvent e = event(ConnState.ACTIVE, ConnState.NEW, "http/1.1");
        sink.onStateChange(e, e.state());
        assertEquals(0, Files.size(file));
        sink.flush();
        assertEquals(Json.record(e) + "\n", Files.readString(file));
        // Under load it writes out by itself, in large writes.
        int lines = 2 * JsonLinesFile.WRITE_AT / Json.record(e).length();
        for (int i = 0; i < lines; i++)
            sink.onStateChange(e, e.state());
        long size = Files.size(file);
        assertTrue(size > JsonLinesFile.WRITE_AT && size % (Json.record(e).length() + 1) == 0, "size " + size);
        sink.close();
        assertEquals(lines + 1L, Files.readAllLines(file).size());
    }

    @Test
    public void logLineIsTheLineAsFirstWritten()
    {
        // Every placeholder, twice, for the same random hostile events as the jsonl check, against the line as first made.
        String all = "{id} {remote} {local} {state} {prev} {protocol} {secure} {requests} {prevMs} {ageMs} {reason} {race} {tls} {cipher} {sni}";
        String format = "a\u0001" + all + "|" + all + "\n";
        LogSink sink = new LogSink("x", format);
        for (ConnStateEvent e : randomEvents(new Random(7), 20_000))
            assertEquals(StringLine.line(format, e), sink.line(e));
    }

    /** Events with everything that could go wrong in the record: hostile strings, odd times, addresses changing under the same id. */
    private static List<ConnStateEvent> randomEvents(Random random, int count)
    {
        List<ConnStateEvent> events = new ArrayList<>();
        List<SocketAddress> addresses = new ArrayList<>();
        addresses.add(null);
        addresses.add(new InetSocketAddress("127.0.0.1", 8080));
        addresses.add(new InetSocketAddress("::1", 8443));
        addresses.add(new InetSocketAddress("2001:db8:0:0:1:0:0:1", 1));
        addresses.add(InetSocketAddress.createUnresolved("evil\"\r\n\u2028host\uD800", 1234));
        addresses.add(UnixDomainSocketAddress.of("/tmp/s\"ock"));
        for (int i = 0; i < 64; i++)
            addresses.add(new InetSocketAddress("10.0.0." + i, 40000 + i));
        for (int i = 0; i < 16; i++)
            addresses.add(InetSocketAddress.createUnresolved(randomString(random), random.nextInt(65536)));
        String[] protocols = {"http/1.1", "h2", "h2c", "http/1.0", "unknown", null};
        ConnState[] states = ConnState.values();
        CloseReason[] reasons = CloseReason.values();
        long[] numbers = {0, 1, 9, 10, 99, 100, 999_999_999, Long.MAX_VALUE, -1, -10, Long.MIN_VALUE, Integer.MAX_VALUE + 1L};
        for (int i = 0; i < count; i++)
        {
            long second = switch (random.nextInt(8))
            {
                case 0 -> random.nextLong() % 253402300799L; // years 1 to 9999 and before year 0
                case 1 -> 253402300800L + random.nextInt(1_000_000_000); // years 10000 and on
                default -> 1_795_000_000L + i / 100; // now-ish, a few per second
            };
            Instant time = Instant.ofEpochSecond(second, random.nextInt(1_000_000_000));
            // A few ids, some in the same slot of the address cache (1024 slots, two per id).
            long id = random.nextInt(4) == 0 ? numbers[random.nextInt(numbers.length)] : random.nextInt(8) + 512L * random.nextInt(3);
            SocketAddress remote = addresses.get(random.nextInt(addresses.size()));
            SocketAddress local = addresses.get(random.nextInt(addresses.size()));
            String protocol = random.nextInt(20) == 0 ? randomString(random) : protocols[random.nextInt(protocols.length)];
            ConnState state = states[random.nextInt(states.length)];
            ConnState previous = random.nextInt(5) == 0 ? null : states[random.nextInt(states.length)];
            CloseReason reason = random.nextInt(3) == 0 ? reasons[random.nextInt(reasons.length)] : null;
            TlsInfo tls = random.nextInt(3) == 0 ? new TlsInfo(randomString(random), random.nextBoolean() ? null : "TLS_AES_128_GCM_SHA256", random.nextBoolean() ? null : randomString(random)) : null;
            events.add(new ConnStateEvent(time, id, remote, local, protocol, random.nextBoolean(), state, previous,
                number(random, numbers) * (random.nextBoolean() ? 1 : 1_000_000), number(random, numbers),
                0, number(random, numbers), -1, reason, reason != null && random.nextInt(4) == 0, tls));
        }
        return events;
    }

    /** One of the edge numbers, or any number of any length. */
    private static long number(Random random, long[] numbers)
    {
        return random.nextBoolean() ? numbers[random.nextInt(numbers.length)] : random.nextLong() >> random.nextInt(64);
    }

    private static String randomString(Random random)
    {
        char[] special = {'"', '\\', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f', '\u0080', '\u009f', '\u00e9', '\u07ff', '\u0800',
            '\u2028', '\u2029', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFF', '\uFFFE', '/', '<'};
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(random.nextInt(10) == 0 ? 3000 : 20);
        for (int i = 0; i < length; i++)
        {
            switch (random.nextInt(4))
            {
                case 0 -> text.append(special[random.nextInt(special.length)]);
                case 1 -> text.appendCodePoint(0x10000 + random.nextInt(0x100000));
                case 2 -> text.append((char)random.nextInt(0x10000));
                default -> text.append((char)(' ' + random.nextInt(95)));
            }
        }
        return text.toString();
    }

    /** The log line as the sink first made it, one value after another. */
    private static final class StringLine
    {
        static String line(String format, ConnStateEvent c)
        {
            StringBuilder line = new StringBuilder();
            int i = 0;
            while (i < format.length())
            {
                int open = format.indexOf('{', i);
                if (open < 0)
                {
                    line.append(format.substring(i));
                    break;
                }
                int close = format.indexOf('}', open);
                line.append(format, i, open);
                Object value = switch (format.substring(open + 1, close))
                {
                    case "id" -> c.id();
                    case "remote" -> c.remoteAddress();
                    case "local" -> c.localAddress();
                    case "state" -> c.state();
                    case "prev" -> c.previous() == null ? "-" : c.previous();
                    case "protocol" -> c.protocol();
                    case "secure" -> c.secure();
                    case "requests" -> c.requests();
                    case "prevMs" -> c.previousNanos() / 1_000_000L;
                    case "ageMs" -> c.ageNanos() / 1_000_000L;
                    case "reason" -> c.reason() == null ? "-" : c.reason();
                    case "race" -> c.race();
                    case "tls" -> c.tls() == null ? "-" : c.tls().protocol();
                    case "cipher" -> c.tls() == null ? "-" : c.tls().cipherSuite();
                    case "sni" -> c.tls() == null || c.tls().sniHost() == null ? "-" : c.tls().sniHost();
                    default -> throw new AssertionError(format);
                };
                String text = String.valueOf(value);
                for (int k = 0; k < text.length(); k++)
                {
                    char ch = text.charAt(k);
                    if (ch < 0x20 || ch == 0x7f || ch == '\u2028' || ch == '\u2029')
                        line.append(String.format("\\u%04x", (int)ch));
                    else
                        line.append(ch);
                }
                i = close + 1;
            }
            return line.toString();
        }
    }
}
