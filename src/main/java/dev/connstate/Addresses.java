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
            {
                int scope = host.indexOf('%');
                if (scope >= 0)
                    host = host.substring(0, scope);
                return "[" + host + "]:" + inet.getPort();
            }
            return host + ":" + inet.getPort();
        }
        return String.valueOf(address);
    }
}
