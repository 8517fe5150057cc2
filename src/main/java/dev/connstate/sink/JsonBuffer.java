package dev.connstate.sink;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;

import dev.connstate.Addresses;
import dev.connstate.CloseReason;
import dev.connstate.ConnState;
import dev.connstate.ConnStateEvent;
import dev.connstate.TlsInfo;

/**
 * The contract's JSON record written straight into a growing byte array as UTF-8: the same
 * bytes as {@link Json#string(StringBuilder, String)} and {@link Json#time(StringBuilder, Instant)}
 * give once encoded, without a {@code String} or a {@code char} in between. It keeps the
 * formatted second of the last record and the formatted addresses of recent connections.
 *
 * <p>Not thread-safe: one instance per writing thread.</p>
 */
final class JsonBuffer
{
    private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.").withZone(ZoneOffset.UTC);
    private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    /** For each ASCII character: 0 to copy it, or the character after the backslash, {@code u} for {@code \\u00XX}. */
    private static final byte[] ESCAPE = new byte[128];

    static
    {
        for (int c = 0; c < 0x20; c++)
            ESCAPE[c] = 'u';
        ESCAPE[0x7f] = 'u';
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
    private static final byte[] REMOTE = ascii(",\"remote\":");
    private static final byte[] LOCAL = ascii(",\"local\":");
    private static final int STATES = ConnState.values().length;
    /** {@code ,"state":"S","prev":"P","protocol":} for every state S and previous state P (or null, last). */
    private static final byte[][] STATE_PREV_PROTOCOL = statePrevProtocol();
    private static final byte[] SECURE_TRUE = ascii(",\"secure\":true,\"prevMs\":");
    private static final byte[] SECURE_FALSE = ascii(",\"secure\":false,\"prevMs\":");
    private static final byte[] REQUESTS = ascii(",\"requests\":");
    private static final byte[] AGE_MS = ascii(",\"ageMs\":");
    private static final byte[] REASON = ascii(",\"reason\":");
    private static final byte[] TLS = ascii(",\"tls\":{\"protocol\":");
    private static final byte[] CIPHER = ascii(",\"cipher\":");
    private static final byte[] SNI = ascii(",\"sni\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[][] REASONS = quoted(CloseReason.values());
    /** The addresses kept formatted: a slot per connection id (and side), the most recent wins. */
    private static final int ADDRESS_SLOTS = 1024;
    /** A record without strings (addresses, protocol, TLS) is shorter than this. */
    private static final int FIXED_LENGTH = 320;

    private byte[] bytes;
    private int size;
    private long second = Long.MIN_VALUE;
    /** {@code {"time":"} and the second of the last record, up to its dot. */
    private byte[] secondText;
    private final SocketAddress[] addresses;
    /** The text of {@link #addresses}, with the field name before it. */
    private final byte[][] addressText;
    private String protocol;
    private byte[] protocolText;

    /**
     * @param capacity the initial capacity in bytes; it grows as needed
     * @param cacheAddresses whether to keep the formatted addresses of recent connections (for
     * many records; 8 KB)
     */
    JsonBuffer(int capacity, boolean cacheAddresses)
    {
        this.bytes = new byte[Math.max(capacity, FIXED_LENGTH)];
        this.addresses = cacheAddresses ? new SocketAddress[ADDRESS_SLOTS] : null;
        this.addressText = cacheAddresses ? new byte[ADDRESS_SLOTS][] : null;
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

    @Override
    public String toString()
    {
        return new String(bytes, 0, size, StandardCharsets.UTF_8);
    }

    /**
     * Appends the record of {@code e}, without a line terminator.
     *
     * @param e the transition
     */
    void record(ConnStateEvent e)
    {
        String protocol = e.protocol();
        TlsInfo tls = e.tls();
        // Room for everything but escaped strings, which make room for themselves.
        ensure(FIXED_LENGTH);
        time(e.time());
        put(ID);
        number(e.id());
        address(e.id() << 1, REMOTE, e.remote());
        address(e.id() << 1 | 1, LOCAL, e.local());
        ConnState previous = e.previous();
        put(STATE_PREV_PROTOCOL[e.state().ordinal() * (STATES + 1) + (previous == null ? STATES : previous.ordinal())]);
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
        number(e.previousMillis());
        put(REQUESTS);
        number(e.requests());
        put(AGE_MS);
        number(e.ageMillis());
        if (e.reason() != null)
        {
            put(REASON);
            put(REASONS[e.reason().ordinal()]);
        }
        if (tls != null)
        {
            put(TLS);
            string(tls.protocol());
            ensure(16);
            put(CIPHER);
            string(tls.cipherSuite());
            ensure(16);
            put(SNI);
            string(tls.sniHost());
            ensure(2);
            bytes[size++] = '}';
        }
        bytes[size++] = '}';
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
     * Appends {@code {"time":"} and {@code time} as ISO-8601 UTC with microseconds,
     * {@code 2026-11-24T10:15:30.123456}, without the {@code Z}. The caller has made room for 64 bytes.
     */
    private void time(Instant time)
    {
        long epochSecond = time.getEpochSecond();
        if (epochSecond != second)
        {
            byte[] text = SECONDS.format(time).getBytes(StandardCharsets.UTF_8);
            secondText = Arrays.copyOf(TIME, TIME.length + text.length);
            System.arraycopy(text, 0, secondText, TIME.length, text.length);
            second = epochSecond;
        }
        put(secondText);
        int micros = time.getNano() / 1000;
        int high = micros / 10_000;
        int low = micros - high * 10_000;
        int middle = low / 100;
        pair(high);
        pair(middle);
        pair(low - middle * 100);
    }

    private void pair(int twoDigits)
    {
        bytes[size] = PAIRS[2 * twoDigits];
        bytes[size + 1] = PAIRS[2 * twoDigits + 1];
        size += 2;
    }

    /** Appends a number; the caller has made room for 20 bytes. */
    private void number(long value)
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
     * Appends {@code name} and an address as a JSON string, formatted once per address object; the
     * caller has made room for {@link #FIXED_LENGTH}, and there is as much room after.
     */
    private void address(long key, byte[] name, SocketAddress address)
    {
        // An InetSocketAddress never changes: the same object always has the same text.
        if (addresses == null || !(address instanceof InetSocketAddress))
        {
            put(name);
            string(Addresses.format(address));
            ensure(FIXED_LENGTH);
            return;
        }
        int slot = (int)key & (ADDRESS_SLOTS - 1);
        byte[] text = addressText[slot];
        // A slot is for one side: the lowest bit of the key.
        if (addresses[slot] != address)
        {
            int start = size;
            put(name);
            string(Addresses.format(address));
            text = Arrays.copyOfRange(bytes, start, size);
            size = start;
            addresses[slot] = address;
            addressText[slot] = text;
        }
        ensure(text.length + FIXED_LENGTH);
        put(text);
    }

    /**
     * Appends {@code value} as a JSON string, escaped as {@link Json#string(StringBuilder, String)}
     * does it, encoded in UTF-8.
     *
     * @param value the string, {@code null} for JSON null
     */
    void string(String value)
    {
        if (value == null)
        {
            ensure(4);
            put(NULL);
            return;
        }
        int length = value.length();
        // At most 6 bytes per char (an escape), plus the quotes.
        ensure(6 * length + 2);
        byte[] b = bytes;
        int at = size;
        b[at++] = '"';
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
            else if (c == '\u2028' || c == '\u2029' || Character.isSurrogate(c))
            {
                at = unicodeEscape(b, at, c);
            }
            else
            {
                b[at++] = (byte)(0xe0 | (c >> 12));
                b[at++] = (byte)(0x80 | ((c >> 6) & 0x3f));
                b[at++] = (byte)(0x80 | (c & 0x3f));
            }
        }
        b[at++] = '"';
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
                text[state.ordinal() * (states.length + 1) + p] = ascii(",\"state\":\"" + state + "\",\"prev\":" + previous + ",\"protocol\":");
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
