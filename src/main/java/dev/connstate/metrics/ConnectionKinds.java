package dev.connstate.metrics;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

import dev.connstate.ConnInfo;
import dev.connstate.jetty.ConnStateTracker;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.NetworkConnector;

/**
 * Sorts connections into the bounded kinds that metrics carry as attributes (connector port and
 * name, TLS or not, HTTP version), each kind a small index, so that an inline listener finds a
 * connection's instruments in an array without allocating.
 *
 * <p>The port and the name are those of the tracked connector listening on the connection's
 * local port. A local address that is no connector's (with the PROXY protocol, the address the
 * client connected to at the proxy) carries neither: whatever a client sends, the kinds stay a
 * few. At most {@value #MAX_PORTS} ports get kinds of their own; a server with more connectors
 * reports the others without a port.</p>
 *
 * <p>Thread-safe. {@link #of(ConnInfo)} allocates only the first time it sees a kind, and when a
 * port it has not seen makes it read the connectors again (at most once a second).</p>
 */
public final class ConnectionKinds
{
    /** Connector ports that get kinds of their own. */
    public static final int MAX_PORTS = 15;
    private static final String[] VERSIONS = {null, "1.0", "1.1", "2", "3"};
    /** Kind indexes are below this. */
    public static final int COUNT = (MAX_PORTS + 1) * 2 * VERSIONS.length;
    private static final long REREAD_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<List<Connector>> connectors;
    /** Slot i + 1 is the port ports[i] (slot 0: no port). Only ever appended to, so an index keeps its meaning. */
    private volatile int[] ports = new int[0];
    private volatile String[] names = new String[0];
    private volatile boolean read;
    private volatile long readNanos;
    private final AtomicReferenceArray<ConnectionKind> kinds = new AtomicReferenceArray<>(COUNT);

    /**
     * @param tracker the tracker whose connectors name the ports
     */
    public ConnectionKinds(ConnStateTracker tracker)
    {
        this(tracker::getTrackedConnectors);
    }

    ConnectionKinds(Supplier<List<Connector>> connectors)
    {
        this.connectors = connectors;
    }

    /**
     * @param conn a connection, during a listener call or while it is tracked
     * @return the index of its kind now, below {@link #COUNT}
     */
    public int of(ConnInfo conn)
    {
        return described((slotOf(conn.local()) * 2 + (conn.secure() ? 1 : 0)) * VERSIONS.length + version(conn.protocol()));
    }

    /**
     * @param index a kind index
     * @return the index of the same kind without its HTTP version (what a TLS handshake is
     * recorded with: it ends before the HTTP version means anything), its attribute values made
     */
    public int withoutVersion(int index)
    {
        return described(index - index % VERSIONS.length);
    }

    /**
     * Reads every kind: for a backend's collection, not for a Jetty thread.
     *
     * @return whether a TLS connection was seen
     */
    public boolean anySecure()
    {
        for (int i = 0; i < COUNT; i++)
        {
            ConnectionKind kind = kinds.get(i);
            if (kind != null && kind.secure())
                return true;
        }
        return false;
    }

    private int described(int index)
    {
        if (kinds.get(index) == null)
            kinds.compareAndSet(index, null, describe(index));
        return index;
    }

    /**
     * @param index a kind index
     * @return the kind's attribute values, {@code null} if no connection of that kind was seen yet
     */
    public ConnectionKind kind(int index)
    {
        return kinds.get(index);
    }

    private ConnectionKind describe(int index)
    {
        int version = index % VERSIONS.length;
        int rest = index / VERSIONS.length;
        int slot = rest / 2;
        int[] ports = this.ports;
        String[] names = this.names;
        return new ConnectionKind(slot == 0 ? -1 : ports[slot - 1], rest % 2 == 1, VERSIONS[version], slot == 0 ? null : names[slot - 1]);
    }

    private static int version(String protocol)
    {
        if (protocol == null)
            return 0;
        return switch (protocol)
        {
            case "http/1.0" -> 1;
            case "http/1.1" -> 2;
            case "h2", "h2c" -> 3;
            case "h3" -> 4;
            default -> 0;
        };
    }

    private int slotOf(SocketAddress local)
    {
        if (!(local instanceof InetSocketAddress address))
            return 0;
        int port = address.getPort();
        int slot = find(port);
        // Port 0 is no listening port (a LocalConnector's end points have it): no need to look again.
        if (slot == 0 && port != 0 && (!read || System.nanoTime() - readNanos > REREAD_NANOS))
        {
            readConnectors();
            slot = find(port);
        }
        return slot;
    }

    private int find(int port)
    {
        int[] ports = this.ports;
        for (int i = 0; i < ports.length; i++)
        {
            if (ports[i] == port)
                return i + 1;
        }
        return 0;
    }

    /** Gives the ports of connectors not seen yet a slot, with their names. */
    private synchronized void readConnectors()
    {
        int[] ports = this.ports;
        String[] names = this.names;
        for (Connector connector : connectors.get())
        {
            if (!(connector instanceof NetworkConnector network) || ports.length == MAX_PORTS)
                continue;
            int port = network.getLocalPort();
            if (port <= 0 || find(port) != 0)
                continue;
            ports = Arrays.copyOf(ports, ports.length + 1);
            ports[ports.length - 1] = port;
            names = Arrays.copyOf(names, names.length + 1);
            names[names.length - 1] = connector.getName();
            // Names first: whoever finds the port finds its name.
            this.names = names;
            this.ports = ports;
        }
        readNanos = System.nanoTime();
        read = true;
    }
}
