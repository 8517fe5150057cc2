package dev.connstate;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Formats socket addresses the way the contract writes them: {@code ip:port}, {@code [v6]:port}.
 */
public final class Addresses
{
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
        if (address == null)
            return "-";
        if (address instanceof InetSocketAddress inet)
        {
            InetAddress ip = inet.getAddress();
            // Unresolved addresses (from a PROXY header, say) have no InetAddress: keep the text as given.
            String host = ip == null ? inet.getHostString() : ip.getHostAddress();
            if (ip instanceof Inet6Address)
                return "[" + compressed(ip.getAddress()) + "]:" + inet.getPort();
            return host + ":" + inet.getPort();
        }
        return String.valueOf(address);
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
