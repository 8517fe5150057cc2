package dev.connstate;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The connection log's record of a connection, derived from its transitions alone, as a reader
 * of the {@code jsonl} sink could: what {@code ConnLogSink} must write, apart from the byte
 * counts, which only Jetty (or the client) knows and the caller gives.
 */
public final class ConnLogRecords
{
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSS'Z'").withZone(ZoneOffset.UTC);

    private ConnLogRecords()
    {
    }

    /**
     * @param events every transition of one connection, {@code new} to its end
     * @param bytesIn the {@code bytesIn} value, as JSON
     * @param bytesOut the {@code bytesOut} value, as JSON
     * @return its record
     */
    public static String derived(List<ConnStateEvent> events, String bytesIn, String bytesOut)
    {
        ConnStateEvent end = events.get(events.size() - 1);
        if (events.get(0).state() != ConnState.NEW || !end.state().isTerminal())
            throw new IllegalArgumentException("not a whole connection: " + events);
        Long firstRequest = null;
        long active = 0;
        long idle = 0;
        Long maxIdle = null;
        for (ConnStateEvent e : events)
        {
            if (e.state() == ConnState.ACTIVE && firstRequest == null)
                firstRequest = e.ageNanos();
            if (e.previous() == ConnState.ACTIVE)
                active += e.previousNanos();
            if (e.previous() == ConnState.IDLE)
            {
                idle += e.previousNanos();
                if (e.state() == ConnState.ACTIVE && (maxIdle == null || e.previousNanos() > maxIdle))
                    maxIdle = e.previousNanos();
            }
        }
        TlsInfo tls = end.tls();
        String tlsJson;
        if (tls != null)
            tlsJson = "{\"protocol\":" + quoted(tls.protocol()) + ",\"cipher\":" + quoted(tls.cipherSuite()) + ",\"sni\":" + quoted(tls.sniHost()) +
                ",\"handshakeMs\":" + millis(tls.handshakeNanos()) + "}";
        else if (end.secure())
            tlsJson = "{\"protocol\":null,\"cipher\":null,\"sni\":null,\"handshakeMs\":" + millis(end.ageNanos()) + "}";
        else
            tlsJson = "null";
        Instant ended = end.time();
        return "{\"id\":" + end.id() +
            ",\"remote\":" + quoted(end.remoteAddress()) +
            ",\"local\":" + quoted(end.localAddress()) +
            ",\"protocol\":" + quoted(end.protocol()) +
            ",\"secure\":" + end.secure() +
            ",\"tls\":" + tlsJson +
            ",\"opened\":\"" + MICROS.format(ended.minusNanos(end.ageNanos()).truncatedTo(ChronoUnit.MICROS)) + "\"" +
            ",\"ended\":\"" + MICROS.format(ended.truncatedTo(ChronoUnit.MICROS)) + "\"" +
            ",\"durationMs\":" + millis(end.ageNanos()) +
            ",\"firstRequestMs\":" + (firstRequest == null ? "null" : millis(firstRequest)) +
            ",\"requests\":" + end.requests() +
            ",\"activeMs\":" + millis(active) +
            ",\"idleMs\":" + millis(idle) +
            ",\"maxIdleMs\":" + (maxIdle == null ? "null" : millis(maxIdle)) +
            ",\"bytesIn\":" + bytesIn +
            ",\"bytesOut\":" + bytesOut +
            ",\"end\":\"" + end.state() + "\"" +
            ",\"reason\":" + (end.reason() == null ? "null" : quoted(end.reason().toString())) +
            ",\"race\":" + end.race() + "}";
    }

    /** Milliseconds to the microsecond, as the record writes them. */
    public static String millis(long nanos)
    {
        long micros = nanos / 1000;
        return String.format(Locale.ROOT, "%d.%03d", micros / 1000, micros % 1000);
    }

    /** A JSON string as Jackson writes it (its escapes may differ from the sink's: compare with {@link #same}). */
    private static String quoted(String text)
    {
        try
        {
            return MAPPER.writeValueAsString(text);
        }
        catch (JsonProcessingException x)
        {
            throw new IllegalArgumentException(x);
        }
    }

    /**
     * @return whether two records hold the same fields, in the same order, with the same values
     * (whatever escapes their strings use)
     */
    public static boolean same(String record, String derived)
    {
        try
        {
            JsonNode a = MAPPER.readTree(record);
            JsonNode b = MAPPER.readTree(derived);
            List<String> namesA = new ArrayList<>();
            a.fieldNames().forEachRemaining(namesA::add);
            List<String> namesB = new ArrayList<>();
            b.fieldNames().forEachRemaining(namesB::add);
            return namesA.equals(namesB) && a.equals(b);
        }
        catch (JsonProcessingException x)
        {
            return false;
        }
    }

    /** @return a count as the record writes it: null when Jetty counted none */
    public static String count(long count)
    {
        return count < 0 ? "null" : Long.toString(count);
    }
}
