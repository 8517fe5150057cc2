package dev.connstate.jetty;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Collectors;

import dev.connstate.ConnState;
import org.eclipse.jetty.util.InetAddressSet;
import org.eclipse.jetty.util.annotation.ManagedAttribute;
import org.eclipse.jetty.util.annotation.ManagedObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Caps the connections of each client address: how many it may hold open
 * ({@link #getMaxConnections()}) and how many of those may be {@code new}, not having sent a
 * request yet ({@link #getMaxNew()}), so that one client cannot take every connection or file
 * descriptor of the server.
 *
 * <p>The client is the connection's peer, or the PROXY protocol's client once its header is read;
 * never a request header. Exempt addresses ({@link #getExempt()}: the load balancers, say) are not
 * counted. A connection over a cap is closed when it opens, before any request byte is read: it
 * reports {@code new}, then {@code closed} with the reason {@code client_limit}, and is counted
 * ({@link #getRejected()}). One WARN line at most every minute names the clients capped since the
 * last one and how many connections each lost.</p>
 *
 * <p>The table holds a client only while it holds a counted connection: it is freed as each
 * client's last connection closes. Off by default (both caps 0): nothing is counted.</p>
 *
 * <p>{@link #admit} runs on the thread that opened the connection, {@link #release} on the thread
 * that reports its close, both under the connection's lock; a client's count is changed by one
 * atomic map operation, so connections of one client on several threads count right.</p>
 */
@ManagedObject("Caps the connections of each client address")
public class ClientLimits
{
    private static final Logger LOG = LoggerFactory.getLogger(ClientLimits.class);
    static final long WARN_INTERVAL_MINUTES = 1;
    /** Clients named on one WARN line; the others are summed. */
    private static final int WARN_CLIENTS = 20;

    /** One client address holding counted connections. */
    static final class Client
    {
        private final InetAddress address;
        /** Counted connections open; changed only inside the table's compute for this address. */
        private int open;
        /** Of those, the ones in {@code new}. */
        private final AtomicInteger fresh = new AtomicInteger();

        private Client(InetAddress address)
        {
            this.address = address;
        }

        /** Its connection left {@code new}: its first request began, or it closed. */
        void leftNew()
        {
            fresh.decrementAndGet();
        }
    }

    private final Map<InetAddress, Client> clients = new ConcurrentHashMap<>();
    private final LongAdder rejected = new LongAdder();
    /** Rejections by client since the last WARN line; bounded by {@link #WARN_CLIENTS}, the rest summed. */
    private final Map<InetAddress, LongAdder> unlogged = new ConcurrentHashMap<>();
    private final LongAdder unloggedOthers = new LongAdder();
    private final AtomicLong nextWarnNanos = new AtomicLong(System.nanoTime());
    private volatile int maxConnections;
    private volatile int maxNew;
    private volatile String exemptText = "";
    private volatile InetAddressSet exempt = new InetAddressSet();

    @ManagedAttribute("Open connections each client address may hold (jetty.connstate.client.maxConnections); 0: no cap")
    public int getMaxConnections()
    {
        return maxConnections;
    }

    /**
     * @param maxConnections how many connections one client address may hold open; 0 for no cap.
     * Applies to connections opened from now on.
     * @throws IllegalArgumentException if negative
     */
    public void setMaxConnections(int maxConnections)
    {
        if (maxConnections < 0)
            throw new IllegalArgumentException("The cap of connections per client must not be negative: " + maxConnections);
        this.maxConnections = maxConnections;
    }

    @ManagedAttribute("Connections each client address may hold in state new, without a request yet (jetty.connstate.client.maxNew); 0: no cap")
    public int getMaxNew()
    {
        return maxNew;
    }

    /**
     * @param maxNew how many connections one client address may hold in {@code new} (accepted, no
     * request yet); 0 for no cap. Applies to connections opened from now on.
     * @throws IllegalArgumentException if negative
     */
    public void setMaxNew(int maxNew)
    {
        if (maxNew < 0)
            throw new IllegalArgumentException("The cap of new connections per client must not be negative: " + maxNew);
        this.maxNew = maxNew;
    }

    @ManagedAttribute("Addresses and ranges no cap counts (jetty.connstate.client.exempt)")
    public String getExempt()
    {
        return exemptText;
    }

    /**
     * @param exempt addresses, CIDR ranges ({@code 10.0.0.0/8}) and address ranges
     * ({@code 10.0.0.1-10.0.0.9}), comma separated, that no cap counts: load balancers, say
     * @throws IllegalArgumentException naming an entry that is not one of those (host names are refused)
     */
    public void setExempt(String exempt)
    {
        this.exempt = AddressList.parse(exempt);
        this.exemptText = exempt == null ? "" : exempt.strip();
    }

    @ManagedAttribute("Connections refused at their accept because their client was at a cap")
    public long getRejected()
    {
        return rejected.sum();
    }

    /** @return client addresses holding counted connections now */
    @ManagedAttribute("Client addresses holding counted connections now")
    public int getClients()
    {
        return clients.size();
    }

    boolean isOn()
    {
        return maxConnections > 0 || maxNew > 0;
    }

    /**
     * {@code conn} opened, or the PROXY protocol named its client: counts it under its client,
     * unless a cap refuses it. Caller holds its lock.
     *
     * @param remote the client's address now
     * @return whether it may stay; if not, close it
     */
    boolean admit(TrackedConnection conn, SocketAddress remote)
    {
        int maxOpen = maxConnections;
        int maxFresh = maxNew;
        InetAddress address = remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
        Client current = conn.client();
        if (current != null && current.address.equals(address))
            return true;
        // Counted under the proxy's address until its header named the client.
        release(conn);
        if ((maxOpen == 0 && maxFresh == 0) || address == null || AddressList.contains(exempt, address))
            return true;
        boolean fresh = conn.state() == ConnState.NEW;
        Client[] admitted = new Client[1];
        clients.compute(address, (key, client) ->
        {
            if (client == null)
                client = new Client(key);
            if ((maxOpen > 0 && client.open >= maxOpen) || (fresh && maxFresh > 0 && client.fresh.get() >= maxFresh))
                return client.open == 0 ? null : client;
            client.open++;
            if (fresh)
                client.fresh.incrementAndGet();
            admitted[0] = client;
            return client;
        });
        if (admitted[0] == null)
        {
            rejected(address);
            return false;
        }
        conn.client(admitted[0]);
        return true;
    }

    /** {@code conn} closed (or its PROXY header named another client): no longer counted. Caller holds its lock. */
    void release(TrackedConnection conn)
    {
        Client client = conn.client();
        if (client == null)
            return;
        conn.client(null);
        // A connection that closes new left new with its close transition; one moved by its PROXY header has not.
        if (conn.state() == ConnState.NEW)
            client.leftNew();
        clients.computeIfPresent(client.address, (key, held) -> --held.open == 0 ? null : held);
    }

    private void rejected(InetAddress address)
    {
        rejected.increment();
        if (unlogged.size() < WARN_CLIENTS || unlogged.containsKey(address))
            unlogged.computeIfAbsent(address, key -> new LongAdder()).increment();
        else
            unloggedOthers.increment();
        long now = System.nanoTime();
        long next = nextWarnNanos.get();
        if (now - next >= 0 && nextWarnNanos.compareAndSet(next, now + TimeUnit.MINUTES.toNanos(WARN_INTERVAL_MINUTES)))
        {
            String named = unlogged.entrySet().stream()
                .map(e -> e.getKey().getHostAddress() + " lost " + e.getValue().sum())
                .collect(Collectors.joining(", "));
            unlogged.clear();
            long others = unloggedOthers.sumThenReset();
            LOG.warn("Refused connections of clients at their cap (max {} open, {} new per client; jetty.connstate.client.*): {}{}",
                maxConnections == 0 ? "unlimited" : maxConnections, maxNew == 0 ? "unlimited" : maxNew, named, others > 0 ? ", others lost " + others : "");
        }
    }

    @Override
    public String toString()
    {
        return String.format("%s@%x{maxConnections=%d,maxNew=%d,exempt=%s,clients=%d,rejected=%d}", getClass().getSimpleName(), hashCode(),
            maxConnections, maxNew, exemptText, clients.size(), rejected.sum());
    }
}
