package dev.connstate.jetty;

import java.net.InetAddress;
import java.util.regex.Pattern;

import org.eclipse.jetty.util.InetAddressSet;

/**
 * Parses a comma-separated list of literal addresses, CIDR ranges ({@code 10.0.0.0/8}) and
 * address ranges ({@code 10.0.0.1-10.0.0.9}) into Jetty's {@link InetAddressSet}, refusing host
 * names: nothing is looked up in DNS.
 */
final class AddressList
{
    /** Literal IPv4 or IPv6 addresses only (a dot or a colon in each). */
    private static final String ADDRESS = "(?:[0-9]{1,3}(?:\\.[0-9]{1,3}){3}|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)";
    private static final Pattern ADDRESS_PATTERN = Pattern.compile(ADDRESS + "(?:/[0-9]{1,3}|-" + ADDRESS + ")?");

    private AddressList()
    {
    }

    /**
     * @param list the entries, comma separated; {@code null} or blank for none
     * @return the set of them
     * @throws IllegalArgumentException naming the first entry that is not an address, CIDR range or address range
     */
    static InetAddressSet parse(String list)
    {
        InetAddressSet set = new InetAddressSet();
        if (list == null)
            return set;
        for (String entry : list.split(","))
        {
            String pattern = entry.strip();
            if (pattern.isEmpty())
                continue;
            // InetAddressSet would resolve host names.
            if (!ADDRESS_PATTERN.matcher(pattern).matches())
                throw new IllegalArgumentException("Not an IP address, CIDR range or address range: '" + pattern + "'");
            set.add(pattern);
        }
        return set;
    }

    /** @return whether {@code address} is in {@code set} */
    static boolean contains(InetAddressSet set, InetAddress address)
    {
        return address != null && set.test(address);
    }
}
