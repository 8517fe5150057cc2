package dev.connstate.sink;

import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

import dev.connstate.Addresses;
import dev.connstate.CloseReason;
import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.ConnTotals;
import dev.connstate.TlsInfo;

/**
 * Writes JSON as UTF-8 bytes into one growing, reusable array: the contract's record of a
 * transition (the {@code jsonl} sink's lines) and of a connection (the {@code connlog} sink's),
 * and the values other documents are made of (the connection table). Strings are escaped so that no value, client-controlled ones included,
 * can break the line or the object.
 *
 * <p>Built for the {@code jsonl} sink's thread, which writes every transition: no
 * {@code String} or {@code char} between the values and the bytes, no allocation per record
 * once warm (a connection's address text comes from {@link Addresses}, the second of the time
 * is formatted once per second), digits two at a time, the constant text between values in as
 * few pieces as can be (see {@code src/bench/FINDINGS.md}).</p>
 *
 * <p>Not thread-safe: one instance per writing thread, or per document.</p>
 */
public final class Json
{
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** For each ASCII character: 0 to copy it, or the character after the backslash, {@code u} for {@code \\u00XX}. */
    private static final byte[] ESCAPE = new byte[128];

    static
    {
        // What breaks a log line breaks a JSON line: the one rule, OneLine's. JSON adds its own
        // quote and backslash, and its short forms for the commonest controls.
        for (char c = 0; c < 0x80; c++)
        {
            if (OneLine.breaksLine(c))
                ESCAPE[c] = 'u';
        }
        ESCAPE['"'] = '"';
        ESCAPE['\\'] = '\\';
        ESCAPE['\n'] = 'n';
        ESCAPE['\r'] = 'r';
        ESCAPE['\t'] = 't';
    }

    private static final long[] POWERS_OF_TEN = new long[19];

    static
    {
        POWERS_OF_TEN[0] = 1;
        for (int i = 1; i < 19; i++)
            POWERS_OF_TEN[i] = POWERS_OF_TEN[i - 1] * 10;
    }

    /** "00" to "99", two bytes per number. */
    private static final byte[] PAIRS = new byte[200];

    static
    {
        for (int i = 0; i < 100; i++)
        {
            PAIRS[2 * i] = (byte)('0' + i / 10);
            PAIRS[2 * i + 1] = (byte)('0' + i % 10);
        }
    }

    // The constant text between values, in as few pieces as can be.
    private static final byte[] TIME = ascii("{\"time\":\"");
    private static final byte[] ID = ascii("Z\",\"id\":");
    // Addresses are always strings: the quotes around them are part of the constant text.
    private static final byte[] REMOTE = ascii(",\"remote\":\"");
    private static final byte[] LOCAL = ascii("\",\"local\":\"");
    private static final int STATES = ConnState.values().length;
    /** {@code ","state":"S","prev":"P","protocol":} for every state S and previous state P (or null, last). */
    private static final byte[][] STATE_PREV_PROTOCOL = statePrevProtocol();
    private static final byte[] SECURE_TRUE = ascii(",\"secure\":true,\"prevMs\":");
    private static final byte[] SECURE_FALSE = ascii(",\"secure\":false,\"prevMs\":");
    private static final byte[] REQUESTS = ascii(",\"requests\":");
    private static final byte[] AGE_MS = ascii(",\"ageMs\":");
    private static final byte[] REASON = ascii(",\"reason\":");
    private static final byte[] RACE = ascii(",\"race\":true");
    private static final byte[] TLS = ascii(",\"tls\":{\"protocol\":");
    private static final byte[] CIPHER = ascii(",\"cipher\":");
    private static final byte[] SNI = ascii(",\"sni\":");
    private static final byte[] HANDSHAKE_MS = ascii(",\"handshakeMs\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[] TRUE = ascii("true");
    private static final byte[] FALSE = ascii("false");
    private static final byte[][] REASONS = quoted(CloseReason.values());
    /** A record without strings (addresses, protocol, TLS) is shorter than this. */
    private static final int FIXED_LENGTH = 320;

    // The connection record's constant text, in as few pieces as can be.
    private static final byte[] CONNECTION_ID = ascii("{\"id\":");
    private static final byte[] CONNECTION_PROTOCOL = ascii("\",\"protocol\":");
    private static final byte[] SECURE_TRUE_TLS = ascii(",\"secure\":true,\"tls\":");
    private static final byte[] SECURE_FALSE_TLS = ascii(",\"secure\":false,\"tls\":null");
    private static final byte[] TLS_PROTOCOL = ascii("{\"protocol\":");
    private static final byte[] TLS_FAILED = ascii("{\"protocol\":null,\"cipher\":null,\"sni\":null,\"handshakeMs\":");
    private static final byte[] OPENED = ascii(",\"opened\":\"");
    private static final byte[] ENDED = ascii("Z\",\"ended\":\"");
    private static final byte[] DURATION_MS = ascii("Z\",\"durationMs\":");
    private static final byte[] FIRST_REQUEST_MS = ascii(",\"firstRequestMs\":");
    private static final byte[] ACTIVE_MS = ascii(",\"activeMs\":");
    private static final byte[] IDLE_MS = ascii(",\"idleMs\":");
    private static final byte[] MAX_IDLE_MS = ascii(",\"maxIdleMs\":");
    private static final byte[] BYTES_IN = ascii(",\"bytesIn\":");
    private static final byte[] BYTES_OUT = ascii(",\"bytesOut\":");
    private static final byte[] END_CLOSED = ascii(",\"end\":\"closed\",\"reason\":");
    private static final byte[] END_HIJACKED = ascii(",\"end\":\"hijacked\",\"reason\":null");
    private static final byte[] RACE_TRUE_END = ascii(",\"race\":true}");
    private static final byte[] RACE_FALSE_END = ascii(",\"race\":false}");

    private byte[] bytes;
    private int size;
    private long second = Long.MIN_VALUE;
    /** {@code {"time":"} and the second of the last time written, up to its dot. */
    private byte[] secondText;
    /** The same for the last time a connection record's {@code opened} had: a second of its own. */
    private long openedSecond = Long.MIN_VALUE;
    private byte[] openedText;
    private String protocol;
    private byte[] protocolText;

    /**
     * A writer for one document: the capacity grows as needed.
     */
    public Json()
    {
        this(FIXED_LENGTH);
    }

    /**
     * @param capacity the initial capacity in bytes; it grows as needed
     */
    public Json(int capacity)
    {
        this.bytes = new byte[Math.max(capacity, FIXED_LENGTH)];
    }

    /**
     * @param conn a transition (a snapshot is taken if it is a live connection)
     * @return its record, without a line terminator
     */
    public static String record(ConnInfo conn)
    {
        return new Json().append(ConnStateEvent.of(conn)).toString();
    }

    /**
     * @return how many bytes are written
     */
    int size()
    {
        return size;
    }

    /**
     * @return the array holding the bytes written, from 0 to {@link #size()}
     */
    byte[] array()
    {
        return bytes;
    }

    /**
     * Forgets the bytes written, keeping the capacity.
     */
    void clear()
    {
        size = 0;
    }

    /**
     * @return the bytes written, wrapped, not copied: valid until this writer writes again
     */
    public ByteBuffer toByteBuffer()
    {
        return ByteBuffer.wrap(bytes, 0, size);
    }

    /**
     * @return the text written
     */
    @Override
    public String toString()
    {
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }

    /**
     * Appends the contract's record of {@code e}, without a line terminator:
     * {@code {"time":...,"id":...,"remote":...,"local":...,"state":...,"prev":...,"protocol":...,"secure":...,"prevMs":...,"requests":...,"ageMs":...}},
     * with {@code "reason"} on a close ({@code "race":true} after it when a request raced the
     * close) and {@code "tls"} once the handshake completed (with {@code "handshakeMs"}).
     *
     * @param e the transition
     * @return this writer
     */
    public Json append(ConnStateEvent e)
    {
        String protocol = e.protocol();
        TlsInfo tls = e.tls();
        // Room for everything but escaped strings, which make room for themselves.
        ensure(FIXED_LENGTH);
        recordTime(e.time());
        put(ID);
        digits(e.id());
        put(REMOTE);
        address(e.remote());
        put(LOCAL);
        address(e.local());
        ConnState previous = e.previous();
        put(STATE_PREV_PROTOCOL[e.state().ordinal() * (STATES + 1) + (previous == null ? STATES : previous.ordinal())]);
        // A sink's events mostly carry the same protocol string: its bytes are kept.
        if (protocol != null && protocol == this.protocol)
        {
            ensure(protocolText.length + FIXED_LENGTH);
            put(protocolText);
        }
        else
        {
            int start = size;
            string(protocol);
            if (protocol != null)
            {
                this.protocol = protocol;
                this.protocolText = Arrays.copyOfRange(bytes, start, size);
            }
            ensure(FIXED_LENGTH);
        }
        put(e.secure() ? SECURE_TRUE : SECURE_FALSE);
        digits(e.previousMillis());
        put(REQUESTS);
        digits(e.requests());
        put(AGE_MS);
        digits(e.ageMillis());
        if (e.reason() != null)
        {
            put(REASON);
            put(REASONS[e.reason().ordinal()]);
            if (e.race())
                put(RACE);
        }
        if (tls != null)
        {
            put(TLS);
            tlsFacts(tls);
            if (tls.handshakeNanos() >= 0)
            {
                put(HANDSHAKE_MS);
                millis(tls.handshakeNanos());
            }
            bytes[size++] = '}';
        }
        bytes[size++] = '}';
        return this;
    }

    /**
     * Appends the contract's connection record of the connection {@code end} ends, without a line
     * terminator: every field, in the contract's order, {@code null} where there is no value
     * (the {@code connlog} sink's lines). Allocates nothing once warm but the text of an address
     * seen for the first time, as {@link #append(ConnStateEvent)}.
     *
     * @param end the {@code closed} or {@code hijacked} transition of a connection
     * @return this writer
     * @throws IllegalArgumentException if {@code end} carries no {@link ConnTotals}: it ends no connection
     */
    public Json appendConnection(ConnStateEvent end)
    {
        ConnTotals totals = end.totals();
        if (totals == null)
            throw new IllegalArgumentException("Not the end of a connection: " + end.state());
        long age = end.ageNanos();
        TlsInfo tls = end.tls();
        ensure(FIXED_LENGTH);
        put(CONNECTION_ID);
        digits(end.id());
        put(REMOTE);
        address(end.remote());
        put(LOCAL);
        address(end.local());
        put(CONNECTION_PROTOCOL);
        string(end.protocol());
        ensure(FIXED_LENGTH);
        if (!end.secure())
            put(SECURE_FALSE_TLS);
        else if (tls == null)
        {
            // It ended before its handshake completed: the handshake lasted its whole life.
            put(SECURE_TRUE_TLS);
            put(TLS_FAILED);
            millis(age);
            bytes[size++] = '}';
        }
        else
        {
            put(SECURE_TRUE_TLS);
            put(TLS_PROTOCOL);
            tlsFacts(tls);
            // Always present here, null if unknown: the connection record has every field.
            put(HANDSHAKE_MS);
            millis(tls.handshakeNanos());
            bytes[size++] = '}';
        }
        // The rest has no string: numbers, times and constant text.
        ensure(2 * FIXED_LENGTH);
        Instant ended = end.time();
        int endedNano = ended.getNano();
        // The accept: the end less the age, without an Instant.
        long openedNanos = endedNano - age;
        long openedSecond = ended.getEpochSecond() + Math.floorDiv(openedNanos, 1_000_000_000L);
        int openedNano = (int)Math.floorMod(openedNanos, 1_000_000_000L);
        put(OPENED);
        if (openedSecond != this.openedSecond)
        {
            openedText = SECONDS.format(Instant.ofEpochSecond(openedSecond)).getBytes(StandardCharsets.UTF_8);
            this.openedSecond = openedSecond;
        }
        put(openedText);
        micros(openedNano);
        put(ENDED);
        // The transition record's second, less its {"time":".
        cacheSecond(ended);
        System.arraycopy(secondText, TIME.length, bytes, size, secondText.length - TIME.length);
        size += secondText.length - TIME.length;
        micros(endedNano);
        put(DURATION_MS);
        millis(age);
        put(FIRST_REQUEST_MS);
        millis(totals.firstRequestNanos());
        put(REQUESTS);
        digits(end.requests());
        put(ACTIVE_MS);
        millis(totals.activeNanos());
        put(IDLE_MS);
        millis(totals.idleNanos());
        put(MAX_IDLE_MS);
        millis(end.longestIdleNanos());
        put(BYTES_IN);
        count(totals.bytesIn());
        put(BYTES_OUT);
        count(totals.bytesOut());
        if (end.state() == ConnState.HIJACKED)
            put(END_HIJACKED);
        else
        {
            put(END_CLOSED);
            CloseReason reason = end.reason();
            put(reason == null ? NULL : REASONS[reason.ordinal()]);
        }
        put(end.race() ? RACE_TRUE_END : RACE_FALSE_END);
        return this;
    }

    /**
     * Appends a TLS object's strings after its {@code {"protocol":}: the version, {@code "cipher"}
     * and {@code "sni"}; then makes room for its handshake and its end.
     */
    private void tlsFacts(TlsInfo tls)
    {
        string(tls.protocol());
        ensure(16);
        put(CIPHER);
        string(tls.cipherSuite());
        ensure(16);
        put(SNI);
        string(tls.sniHost());
        ensure(FIXED_LENGTH);
    }

    /** Appends the six digits of the microseconds in {@code nano}; the caller made room. */
    private void micros(int nano)
    {
        int micros = nano / 1000;
        int high = micros / 10_000;
        int low = micros - high * 10_000;
        int middle = low / 100;
        pair(high);
        pair(middle);
        pair(low - middle * 100);
    }

    /** Appends a count, {@code null} if negative (not counted); the caller made room. */
    private void count(long count)
    {
        if (count < 0)
            put(NULL);
        else
            digits(count);
    }

    /**
     * Appends JSON text as it is: the caller's own punctuation and field names.
     *
     * @param json ASCII text that is already JSON, e.g. {@code ,"name":}
     * @return this writer
     * @throws IllegalArgumentException if the text is not ASCII
     */
    public Json raw(String json)
    {
        int length = json.length();
        ensure(length);
        for (int i = 0; i < length; i++)
        {
            char c = json.charAt(i);
            if (c >= 0x80)
                throw new IllegalArgumentException("Not ASCII at " + i + ": '" + OneLine.of(json) + "'");
            bytes[size++] = (byte)c;
        }
        return this;
    }

    /**
     * Appends one byte, an ASCII character.
     *
     * @param c the character
     */
    void ascii(char c)
    {
        ensure(1);
        bytes[size++] = (byte)c;
    }

    /**
     * @param value a number
     * @return this writer
     */
    public Json number(long value)
    {
        ensure(20);
        digits(value);
        return this;
    }

    /**
     * Appends a duration in milliseconds to the microsecond, {@code 12.345}; {@code null} if negative (unknown).
     *
     * @param nanos the duration in nanoseconds
     * @return this writer
     */
    public Json millis(long nanos)
    {
        ensure(24);
        if (nanos < 0)
        {
            put(NULL);
            return this;
        }
        long micros = nanos / 1000;
        long whole = micros / 1000;
        int fraction = (int)(micros - whole * 1000);
        digits(whole);
        bytes[size++] = '.';
        bytes[size++] = (byte)('0' + fraction / 100);
        pair(fraction % 100);
        return this;
    }

    /**
     * @param value a boolean
     * @return this writer
     */
    public Json bool(boolean value)
    {
        ensure(5);
        put(value ? TRUE : FALSE);
        return this;
    }

    /**
     * Appends {@code time} as a JSON string, ISO-8601 UTC with microseconds as in the contract's
     * record: {@code "2026-11-24T10:15:30.123456Z"}.
     *
     * @param time the instant
     * @return this writer
     */
    public Json time(Instant time)
    {
        ensure(64);
        // The record's time, less its field name: from the opening quote on.
        int start = size;
        recordTime(time);
        int name = TIME.length - 1;
        System.arraycopy(bytes, start + name, bytes, start, size - start - name);
        size -= name;
        bytes[size++] = 'Z';
        bytes[size++] = '"';
        return this;
    }

    /**
     * Appends {@code {"time":"} and {@code time} as ISO-8601 UTC with microseconds,
     * {@code 2026-11-24T10:15:30.123456}, without the {@code Z}. The caller has made room for 64 bytes.
     */
    private void recordTime(Instant time)
    {
        cacheSecond(time);
        put(secondText);
        micros(time.getNano());
    }

    /** Makes {@link #secondText} the second of {@code time}: formatting is costly, and events come many per second. */
    private void cacheSecond(Instant time)
    {
        long epochSecond = time.getEpochSecond();
        if (epochSecond != second)
        {
            byte[] text = SECONDS.format(time).getBytes(StandardCharsets.UTF_8);
            secondText = Arrays.copyOf(TIME, TIME.length + text.length);
            System.arraycopy(text, 0, secondText, TIME.length, text.length);
            second = epochSecond;
        }
    }

    private void pair(int twoDigits)
    {
        bytes[size] = PAIRS[2 * twoDigits];
        bytes[size + 1] = PAIRS[2 * twoDigits + 1];
        size += 2;
    }

    /** Appends a number; the caller has made room for 20 bytes. */
    private void digits(long value)
    {
        if (value >= 0 && value < 10)
        {
            bytes[size++] = (byte)('0' + value);
            return;
        }
        if (value >= 10 && value < 100)
        {
            pair((int)value);
            return;
        }
        if (value < 0)
        {
            if (value == Long.MIN_VALUE)
            {
                put(ascii(Long.toString(value)));
                return;
            }
            bytes[size++] = '-';
            value = -value;
        }
        int digits = 1;
        while (digits < 19 && value >= POWERS_OF_TEN[digits])
            digits++;
        int at = size + digits;
        size = at;
        while (value >= 100)
        {
            long next = value / 100;
            int twoDigits = (int)(value - next * 100);
            bytes[--at] = PAIRS[2 * twoDigits + 1];
            bytes[--at] = PAIRS[2 * twoDigits];
            value = next;
        }
        if (value >= 10)
        {
            bytes[--at] = PAIRS[2 * (int)value + 1];
            bytes[--at] = PAIRS[2 * (int)value];
        }
        else
        {
            bytes[--at] = (byte)('0' + value);
        }
    }

    /**
     * Appends the text of an address, escaped, without quotes; the caller has made room for
     * {@link #FIXED_LENGTH}, and there is as much room after. The text is made once per address
     * by {@link Addresses}, and copied as it is when there is nothing to escape.
     */
    private void address(SocketAddress address)
    {
        int plain = Addresses.copyPlain(address, bytes, size);
        if (plain >= 0)
            size += plain;
        else
            escaped(Addresses.format(address));
        ensure(FIXED_LENGTH);
    }

    /**
     * Appends {@code value} as a JSON string encoded in UTF-8: quotes, backslashes, every control
     * character, DEL, U+2028/U+2029 and unpaired surrogates are escaped, so the output is one
     * line of valid JSON. Paired surrogates and every other character are written as UTF-8.
     *
     * @param value the string, {@code null} for JSON null
     * @return this writer
     */
    public Json string(String value)
    {
        if (value == null)
        {
            ensure(4);
            put(NULL);
            return this;
        }
        ensure(2);
        bytes[size++] = '"';
        escaped(value);
        ensure(1);
        bytes[size++] = '"';
        return this;
    }

    /** Appends {@code value} escaped as {@link #string(String)} does it, without the quotes. */
    private void escaped(String value)
    {
        int length = value.length();
        // At most 6 bytes per char (an escape).
        ensure(6 * length);
        byte[] b = bytes;
        int at = size;
        for (int i = 0; i < length; i++)
        {
            char c = value.charAt(i);
            if (c < 0x80)
            {
                byte escape = ESCAPE[c];
                if (escape == 0)
                {
                    b[at++] = (byte)c;
                }
                else if (escape == 'u')
                {
                    at = unicodeEscape(b, at, c);
                }
                else
                {
                    b[at++] = '\\';
                    b[at++] = escape;
                }
            }
            else if (c < 0x800)
            {
                b[at++] = (byte)(0xc0 | (c >> 6));
                b[at++] = (byte)(0x80 | (c & 0x3f));
            }
            else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(value.charAt(i + 1)))
            {
                int cp = Character.toCodePoint(c, value.charAt(++i));
                b[at++] = (byte)(0xf0 | (cp >> 18));
                b[at++] = (byte)(0x80 | ((cp >> 12) & 0x3f));
                b[at++] = (byte)(0x80 | ((cp >> 6) & 0x3f));
                b[at++] = (byte)(0x80 | (cp & 0x3f));
            }
            else if (Character.isSurrogate(c) || OneLine.breaksLine(c))
            {
                // An unpaired surrogate has no UTF-8 form: escaped, it survives as it was.
                at = unicodeEscape(b, at, c);
            }
            else
            {
                b[at++] = (byte)(0xe0 | (c >> 12));
                b[at++] = (byte)(0x80 | ((c >> 6) & 0x3f));
                b[at++] = (byte)(0x80 | (c & 0x3f));
            }
        }
        size = at;
    }

    private static int unicodeEscape(byte[] b, int at, char c)
    {
        b[at++] = '\\';
        b[at++] = 'u';
        b[at++] = HEX[(c >> 12) & 0xf];
        b[at++] = HEX[(c >> 8) & 0xf];
        b[at++] = HEX[(c >> 4) & 0xf];
        b[at++] = HEX[c & 0xf];
        return at;
    }

    private void put(byte[] text)
    {
        System.arraycopy(text, 0, bytes, size, text.length);
        size += text.length;
    }

    /** Makes room for {@code more} bytes. */
    private void ensure(int more)
    {
        if (bytes.length - size < more)
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }

    private static byte[] ascii(String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[][] statePrevProtocol()
    {
        ConnState[] states = ConnState.values();
        byte[][] text = new byte[states.length * (states.length + 1)][];
        for (ConnState state : states)
        {
            for (int p = 0; p <= states.length; p++)
            {
                String previous = p == states.length ? "null" : "\"" + states[p] + "\"";
                text[state.ordinal() * (states.length + 1) + p] = ascii("\",\"state\":\"" + state + "\",\"prev\":" + previous + ",\"protocol\":");
            }
        }
        return text;
    }

    private static byte[][] quoted(Enum<?>[] values)
    {
        byte[][] quoted = new byte[values.length][];
        for (Enum<?> value : values)
            quoted[value.ordinal()] = ascii("\"" + value + "\"");
        return quoted;
    }
}
