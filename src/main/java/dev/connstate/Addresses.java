package dev.connstate;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Gives the text of a socket address the way the contract writes it ({@code ip:port},
 * {@code [v6]:port}), made once per address object and shared by every writer of a connection's
 * events: the log line, the JSON record and the connection table.
 *
 * <p>All events of one connection carry the same address objects, so the text of a connection's
 * address is made on its first event and found by identity on the next ones, from a table of
 * fixed size shared by all threads. The table keeps nothing else: it never grows, and a
 * connection's entries are overwritten by later connections'.</p>
 */
public final class Addresses
{
    /**
     * Sets of two entries: the addresses of the connections written recently (a remote and a
     * local per connection) stay, some 1000 of them, in 8 KB of references.
     */
    private static final int SETS = 1024;
    /** Entry {@code 2 * set} is the newest of its set, {@code 2 * set + 1} the one before. */
    private static final Text[] TEXTS = new Text[2 * SETS];

    /**
     * An address, its text, and the text's bytes if it is plain (see {@link #copyPlain}).
     * Immutable (final fields, an array never written after it is made), so that a thread reading
     * a slot while another replaces it sees one entry or the other, whole: the table needs no lock.
     */
    private record Text(SocketAddress address, String text, byte[] plain)
    {
        static Text of(SocketAddress address, String text)
        {
            for (int i = 0; i < text.length(); i++)
            {
                char c = text.charAt(i);
                if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
                    return new Text(address, text, null);
            }
            return new Text(address, text, text.getBytes(StandardCharsets.US_ASCII));
        }
    }

    private Addresses()
    {
    }

    /**
     * @param address an address, possibly {@code null}
     * @return {@code ip:port}, {@code [v6]:port}, the address's own text for non-IP sockets
     * (Unix domain), or {@code -} for {@code null}
     */
    public static String format(SocketAddress address)
    {
        // Other kinds than InetSocketAddress could be any class, mutable: their text is made every time.
        if (!(address instanceof InetSocketAddress inet))
            return address == null ? "-" : String.valueOf(address);
        return lookup(inet).text();
    }

    /**
     * Copies the text of {@code address} into {@code into} if it is plain, printable ASCII
     * without quotes or backslashes, the same in any encoding and in a JSON string as it is in a
     * log line: the writers that must escape text skip the escaping (and its cost, for every
     * event) where there is nothing to escape.
     *
     * @param address an address, possibly {@code null}
     * @param into where to copy the text
     * @param at where in {@code into}
     * @return how many bytes were copied, or -1 if none were: the text is not plain, is not kept
     * here (other kinds of address), or does not fit
     */
    public static int copyPlain(SocketAddress address, byte[] into, int at)
    {
        if (!(address instanceof InetSocketAddress inet))
            return -1;
        byte[] plain = lookup(inet).plain();
        if (plain == null || plain.length > into.length - at)
            return -1;
        System.arraycopy(plain, 0, into, at, plain.length);
        return plain.length;
    }

    /** An InetSocketAddress never changes (final fields, final getters): one object, one text forever. */
    private static Text lookup(InetSocketAddress address)
    {
        int set = (System.identityHashCode(address) & (SETS - 1)) << 1;
        Text[] texts = TEXTS;
        Text newest = texts[set];
        if (newest != null && newest.address() == address)
            return newest;
        Text older = texts[set + 1];
        if (older != null && older.address() == address)
            return older;
        Text text = Text.of(address, text(address));
        // Two ways per set: an address whose set is taken by a live connection's does not evict
        // it. Two threads missing in the same set at once may lose an entry: it is made again.
        texts[set + 1] = newest;
        texts[set] = text;
        return text;
    }

    private static String text(InetSocketAddress inet)
    {
        InetAddress ip = inet.getAddress();
        if (ip instanceof Inet6Address)
            return "[" + compressed(ip.getAddress()) + "]:" + inet.getPort();
        // Unresolved addresses (from a PROXY header, say) have no InetAddress: keep the text as given.
        String host = ip == null ? inet.getHostString() : ip.getHostAddress();
        return host + ":" + inet.getPort();
    }

    /**
     * IPv6 in the canonical text form of RFC 5952, as Go prints it: lower-case hex, no leading
     * zeros, the longest run of two or more zero groups (the first of equal ones) as {@code ::}.
     */
    static String compressed(byte[] ipv6)
    {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++)
            groups[i] = ((ipv6[2 * i] & 0xff) << 8) | (ipv6[2 * i + 1] & 0xff);
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; )
        {
            int j = i;
            while (j < 8 && groups[j] == 0)
                j++;
            if (j - i > bestLength)
            {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':')
                text.append(':');
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }
}
