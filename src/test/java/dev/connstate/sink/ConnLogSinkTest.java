package dev.connstate.sink;

import java.io.IOException;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnTotals;
import dev.connstate.TlsInfo;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The connection log's record, written whole, and its file: only the ends make a line, and a
 * day's records go to that day's file, none lost at midnight.
 */
public class ConnLogSinkTest
{
    private static final InetSocketAddress REMOTE = new InetSocketAddress("10.0.0.7", 51234);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.0.0.1", 8443);

    @TempDir
    Path dir;

    /** A TLS connection of three requests, closed by its client at {@code time}, 2.5 s old. */
    private static ConnStateEvent closed(long id, Instant time)
    {
        return new ConnStateEvent(time, id, REMOTE, LOCAL, "h2", true, ConnState.CLOSED, ConnState.IDLE, 1_000_000_000L, 3, 0,
            2_500_123_456L, 800_000_000L, CloseReason.REMOTE_CLOSE, false,
            new TlsInfo("TLSv1.3", "TLS_AES_128_GCM_SHA256", "api.example.com", 4_321_987L),
            new ConnTotals(12_345_678L, 287_777_778L, 2_200_000_000L, 1_234, 56_789));
    }

    @Test
    public void theRecordOfAClosedConnection()
    {
        assertEquals("{\"id\":42,\"remote\":\"10.0.0.7:51234\",\"local\":\"10.0.0.1:8443\",\"protocol\":\"h2\",\"secure\":true," +
                "\"tls\":{\"protocol\":\"TLSv1.3\",\"cipher\":\"TLS_AES_128_GCM_SHA256\",\"sni\":\"api.example.com\",\"handshakeMs\":4.321}," +
                "\"opened\":\"2026-12-07T10:15:27.623333Z\",\"ended\":\"2026-12-07T10:15:30.123456Z\",\"durationMs\":2500.123,\"firstRequestMs\":12.345," +
                "\"requests\":3,\"activeMs\":287.777,\"idleMs\":2200.000,\"maxIdleMs\":800.000,\"bytesIn\":1234,\"bytesOut\":56789," +
                "\"end\":\"closed\",\"reason\":\"remote_close\",\"race\":false}",
            ConnLogSink.record(closed(42, Instant.parse("2026-12-07T10:15:30.123456789Z"))));
    }

    @Test
    public void theRecordOfAHijackedConnectionAndOfASilentOne()
    {
        ConnStateEvent hijacked = new ConnStateEvent(Instant.parse("2026-12-07T10:15:30Z"), 7, REMOTE, LOCAL, "http/1.1", false,
            ConnState.HIJACKED, ConnState.ACTIVE, 1_000, 1, 0, 3_000, -1, null, false, null, new ConnTotals(2_000, 1_000, 0, 180, -1));
        assertEquals("{\"id\":7,\"remote\":\"10.0.0.7:51234\",\"local\":\"10.0.0.1:8443\",\"protocol\":\"http/1.1\",\"secure\":false,\"tls\":null," +
                "\"opened\":\"2026-12-07T10:15:29.999997Z\",\"ended\":\"2026-12-07T10:15:30.000000Z\",\"durationMs\":0.003,\"firstRequestMs\":0.002," +
                "\"requests\":1,\"activeMs\":0.001,\"idleMs\":0.000,\"maxIdleMs\":null,\"bytesIn\":180,\"bytesOut\":null," +
                "\"end\":\"hijacked\",\"reason\":null,\"race\":false}",
            ConnLogSink.record(hijacked));
        // A TLS client that closed during its handshake: the handshake lasted its whole life.
        ConnStateEvent silent = new ConnStateEvent(Instant.parse("2026-12-07T10:15:30Z"), 8, REMOTE, LOCAL, "unknown", true,
            ConnState.CLOSED, ConnState.NEW, 30_000_000_000L, 0, 0, 30_000_000_000L, -1, CloseReason.IDLE_TIMEOUT, false, null,
            new ConnTotals(-1, 0, 0, 0, 0));
        assertEquals("{\"id\":8,\"remote\":\"10.0.0.7:51234\",\"local\":\"10.0.0.1:8443\",\"protocol\":\"unknown\",\"secure\":true," +
                "\"tls\":{\"protocol\":null,\"cipher\":null,\"sni\":null,\"handshakeMs\":30000.000}," +
                "\"opened\":\"2026-12-07T10:15:00.000000Z\",\"ended\":\"2026-12-07T10:15:30.000000Z\",\"durationMs\":30000.000,\"firstRequestMs\":null," +
                "\"requests\":0,\"activeMs\":0.000,\"idleMs\":0.000,\"maxIdleMs\":null,\"bytesIn\":0,\"bytesOut\":0," +
                "\"end\":\"closed\",\"reason\":\"idle_timeout\",\"race\":false}",
            ConnLogSink.record(silent));
    }

    @Test
    public void onlyTheEndsMakeALine() throws IOException
    {
        StringWriter out = new StringWriter();
        ConnLogSink sink = new ConnLogSink(out, true);
        for (ConnState state : ConnState.values())
            assertEquals(state.isTerminal(), sink.wants(state), state.toString());
        ConnStateEvent active = new ConnStateEvent(Instant.EPOCH, 1, REMOTE, LOCAL, "h2", true, ConnState.ACTIVE, ConnState.NEW, 0, 1, 0, 0, -1, null, false, null);
        sink.onStateChange(active, ConnState.ACTIVE);
        assertEquals("", out.toString());
        ConnStateEvent end = closed(1, Instant.parse("2026-12-07T10:15:30Z"));
        sink.onStateChange(end, ConnState.CLOSED);
        sink.close();
        assertEquals(ConnLogSink.record(end) + "\n", out.toString());
        // An end without its totals is no connection's end.
        assertThrows(IllegalArgumentException.class, () -> ConnLogSink.record(active));
    }

    @Test
    public void recordsBeforeAndAfterMidnightLandInTwoFilesNoneLost() throws IOException
    {
        // As its queue drives it: batches of 1 to 50 ends, a flush after each; about a
        // millisecond between two ends, across midnight.
        JsonLinesRolloverTest.TestClock clock = new JsonLinesRolloverTest.TestClock("2026-12-07T23:59:59Z");
        ConnLogSink sink = ConnLogSink.builder(dir.resolve("connlog-yyyy_mm_dd.jsonl")).clock(clock).build();
        Random random = new Random(23);
        Map<String, List<Long>> expected = new LinkedHashMap<>();
        int ends = 2_000;
        long id = 0;
        while (id < ends)
        {
            int batch = (int)Math.min(ends - id, 1 + random.nextInt(50));
            for (int i = 0; i < batch; i++, id++)
            {
                clock.advanceNanos(random.nextInt(2_000_000));
                sink.onStateChange(closed(id, clock.instant()), ConnState.CLOSED);
            }
            sink.flush();
            String day = DateTimeFormatter.ofPattern("yyyy_MM_dd").format(LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC));
            List<Long> ids = expected.computeIfAbsent("connlog-" + day + ".jsonl", k -> new ArrayList<>());
            for (long written = id - batch; written < id; written++)
                ids.add(written);
        }
        sink.close();
        assertEquals(List.of("connlog-2026_12_07.jsonl", "connlog-2026_12_08.jsonl"), List.copyOf(expected.keySet()), "midnight was not crossed");
        int total = 0;
        for (Map.Entry<String, List<Long>> file : expected.entrySet())
        {
            List<Long> ids = new ArrayList<>();
            for (String line : Files.readAllLines(dir.resolve(file.getKey()), StandardCharsets.UTF_8))
            {
                assertTrue(line.startsWith("{\"id\":") && line.endsWith(",\"end\":\"closed\",\"reason\":\"remote_close\",\"race\":false}"), line);
                ids.add(new ObjectMapper().readTree(line).get("id").asLong());
            }
            assertEquals(file.getValue(), ids, file.getKey());
            total += ids.size();
        }
        assertEquals(ends, total);
        assertFalse(expected.get("connlog-2026_12_07.jsonl").isEmpty() || expected.get("connlog-2026_12_08.jsonl").isEmpty());
    }
}
