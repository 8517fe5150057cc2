package dev.connstate.sink;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

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

    private static final byte[] TIME = ascii("{\"time\":\"");
    private static final byte[] ID = ascii("\",\"id\":");
    private static final byte[] REMOTE = ascii(",\"remote\":");
    private static final byte[] LOCAL = ascii(",\"local\":");
    private static final byte[] STATE = ascii(",\"state\":");
    private static final byte[] PREV = ascii(",\"prev\":");
    private static final byte[] PROTOCOL = ascii(",\"protocol\":");
    private static final byte[] SECURE_TRUE = ascii(",\"secure\":true");
    private static final byte[] SECURE_FALSE = ascii(",\"secure\":false");
    private static final byte[] PREV_MS = ascii(",\"prevMs\":");
    private static final byte[] REQUESTS = ascii(",\"requests\":");
    private static final byte[] AGE_MS = ascii(",\"ageMs\":");
    private static final byte[] REASON = ascii(",\"reason\":");
    private static final byte[] TLS = ascii(",\"tls\":{\"protocol\":");
    private static final byte[] CIPHER = ascii(",\"cipher\":");
    private static final byte[] SNI = ascii(",\"sni\":");
    private static final byte[] NULL = ascii("null");
    private static final byte[][] STATES = quoted(ConnState.values());
    private static final byte[][] REASONS = quoted(CloseReason.values());
    /** The addresses kept formatted: a slot per connection id (and side), the most recent wins. */
    private static final int ADDRESS_SLOTS = 1024;
    /** A record without strings (addresses, protocol, TLS) is shorter than this. */
    private static final int FIXED_LENGTH = 320;

    private byte[] bytes;
    private int size;
    private long second = Long.MIN_VALUE;
    private final byte[] secondText = new byte[64];
    private int secondLength;
    private final SocketAddress[] addresses;
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
        put(TIME);
        time(e.time());
        put(ID);
        number(e.id());
        put(REMOTE);
        address(e.id() << 1, e.remote());
        put(LOCAL);
        address(e.id() << 1 | 1, e.local());
        put(STATE);
        put(STATES[e.state().ordinal()]);
        put(PREV);
        put(e.previous() == null ? NULL : STATES[e.previous().ordinal()]);
        put(PROTOCOL);
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
                this.protocolText = java.util.Arrays.copyOfRange(bytes, start, size);
            }
            ensure(FIXED_LENGTH);
        }
        put(e.secure() ? SECURE_TRUE : SECURE_FALSE);
        put(PREV_MS);
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
     * Appends {@code time} as ISO-8601 UTC with microseconds: {@code 2026-11-24T10:15:30.123456Z}.
     * The caller has made room for 40 bytes.
     */
    private void time(Instant time)
    {
        long epochSecond = time.getEpochSecond();
        if (epochSecond != second)
        {
            byte[] text = SECONDS.format(time).getBytes(StandardCharsets.UTF_8);
            System.arraycopy(text, 0, secondText, 0, text.length);
            secondLength = text.length;
            second = epochSecond;
        }
        System.arraycopy(secondText, 0, bytes, size, secondLength);
        int at = size + secondLength;
        int micros = time.getNano() / 1000;
        for (int i = at + 5; i >= at; i--)
        {
            bytes[i] = (byte)('0' + micros % 10);
            micros /= 10;
        }
        bytes[at + 6] = 'Z';
        size = at + 7;
    }

    /** Appends a number; the caller has made room for 20 bytes. */
    private void number(long value)
    {
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
        for (long v = value; v >= 10; v /= 10)
            digits++;
        int at = size + digits;
        size = at;
        do
        {
            bytes[--at] = (byte)('0' + value % 10);
            value /= 10;
        }
        while (value != 0);
    }

    /** Appends an address as a JSON string, formatted once per address object; the caller has made room for {@link #FIXED_LENGTH}. */
    private void address(long key, SocketAddress address)
    {
        // An InetSocketAddress never changes: the same object always has the same text.
        if (addresses == null || !(address instanceof InetSocketAddress))
        {
            string(Addresses.format(address));
            ensure(FIXED_LENGTH);
            return;
        }
        int slot = (int)key & (ADDRESS_SLOTS - 1);
        byte[] text = addressText[slot];
        if (addresses[slot] != address)
        {
            int start = size;
            string(Addresses.format(address));
            text = java.util.Arrays.copyOfRange(bytes, start, size);
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
            bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }

    private static byte[] ascii(String text)
    {
        return text.getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[][] quoted(Enum<?>[] values)
    {
        byte[][] quoted = new byte[values.length][];
        for (Enum<?> value : values)
            quoted[value.ordinal()] = ascii("\"" + value + "\"");
        return quoted;
    }
}
