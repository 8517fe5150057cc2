package dev.connstate.sink;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

import dev.connstate.ConnInfo;
import dev.connstate.ConnStateEvent;

/**
 * Writes the JSON record of the contract, one object per transition, with strings escaped so
 * that no value (client-controlled ones included) can break the line or the object.
 */
public final class Json
{
    /** ISO-8601 UTC up to the second; the microseconds are appended by hand. */
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** The formatted second of the last record: events come many per second, formatting is costly. */
    private record Second(long epochSecond, String text)
    {
    }

    private static volatile Second lastSecond = new Second(Long.MIN_VALUE, "");

    private Json()
    {
    }

    /**
     * @param conn a transition (a snapshot is taken if it is a live connection)
     * @return the record, without a line terminator
     */
    public static String record(ConnInfo conn)
    {
        JsonBuffer json = new JsonBuffer(256, false);
        json.record(ConnStateEvent.of(conn));
        return json.toString();
    }

    /**
     * Appends {@code time} as ISO-8601 UTC with microseconds, as in the contract's example:
     * {@code 2026-11-24T10:15:30.123456Z}.
     *
     * @param out where to append
     * @param time the instant
     */
    public static void time(StringBuilder out, Instant time)
    {
        Second second = lastSecond;
        if (second.epochSecond() != time.getEpochSecond())
        {
            second = new Second(time.getEpochSecond(), SECONDS.format(time));
            lastSecond = second;
        }
        out.append(second.text());
        int micros = time.getNano() / 1000;
        for (int divisor = 100_000; divisor > 0; divisor /= 10)
            out.append((char)('0' + micros / divisor % 10));
        out.append('Z');
    }

    /**
     * Appends {@code value} as a JSON string: quotes, backslashes, every control character,
     * U+2028/U+2029 and unpaired surrogates are escaped, so the output is one line of valid JSON.
     *
     * @param json where to append
     * @param value the string, {@code null} for JSON null
     */
    public static void string(StringBuilder json, String value)
    {
        if (value == null)
        {
            json.append("null");
            return;
        }
        json.append('"');
        for (int i = 0; i < value.length(); i++)
        {
            char c = value.charAt(i);
            switch (c)
            {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default ->
                {
                    boolean paired = Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1));
                    if (paired)
                    {
                        json.append(c).append(value.charAt(++i));
                    }
                    else if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c))
                    {
                        json.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf]).append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
                    }
                    else
                    {
                        json.append(c);
                    }
                }
            }
        }
        json.append('"');
    }
}
