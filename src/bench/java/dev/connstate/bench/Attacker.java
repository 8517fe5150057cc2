package dev.connstate.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The attacker of {@link AttackBench}: one thread, non-blocking sockets bound to an address of
 * its own (127.0.0.2), that tries to hold {@code target} connections to the server, of two kinds:
 * <ul>
 *   <li>{@link Kind#SILENT}: connects and sends nothing;</li>
 *   <li>{@link Kind#TRICKLER}: sends {@code GET / HTTP/1.1\r\n}, then one header line every
 *   {@code trickleMillis}, never the blank line that ends the head: every byte resets Jetty's idle
 *   timeout, so a server without a request header timeout keeps it for ever.</li>
 * </ul>
 * <p>It opens a connection whenever it holds (connected or connecting) fewer than
 * {@code target}, at most {@code openRate} a second (a token bucket of a twentieth of a second),
 * the kinds alternating in the share {@code trickleShare} of the connections opened: a connection
 * the server closes is replaced as soon as the rate allows. A connect that has not completed in
 * {@code connectTimeoutMillis} is given up (a full accept queue drops the SYN). It notes when each
 * connection connected and when it saw the server close it (end of stream, a reset, or a write
 * that failed), and samples every second how many it holds open.</p>
 */
final class Attacker implements Runnable
{
    enum Kind
    {
        SILENT, TRICKLER
    }

    /**
     * A connection the server closed.
     *
     * @param openNanos when its connect completed (the attacker's clock, {@link System#nanoTime()})
     * @param closedNanos when the attacker saw the close
     * @param how {@code eof}, {@code reset} or {@code write}
     * @param answered whether the server sent bytes first (a 400, 408, 431...)
     */
    record Closed(Kind kind, int port, long openNanos, long closedNanos, String how, boolean answered)
    {
        long lifeNanos()
        {
            return closedNanos - openNanos;
        }
    }

    /** One second's sample: attack connections open (connected, not seen closed) and connecting. */
    record Sample(int second, int open, int connecting)
    {
    }

    private static final class Conn
    {
        final Kind kind;
        final SocketChannel channel;
        final long startNanos;
        long openNanos;
        int port;
        long nextWriteNanos;
        int lines;
        boolean answered;

        Conn(Kind kind, SocketChannel channel, long startNanos)
        {
            this.kind = kind;
            this.channel = channel;
            this.startNanos = startNanos;
        }
    }

    private final InetSocketAddress server;
    private final InetSocketAddress bind;
    private final int target;
    private final double openRate;
    private final double trickleShare;
    private final long trickleNanos;
    private final long connectTimeoutNanos;
    private final long durationNanos;

    private final List<Closed> closed = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private final Set<Conn> connecting = new HashSet<>();
    private final Set<Conn> open = new HashSet<>();
    private final ByteBuffer sink = ByteBuffer.allocateDirect(4096);
    private long attempts;
    private long tricklersOpened;
    private long connected;
    private long connectTimeouts;
    private long connectFailures;
    private String firstConnectFailure;
    private int heldToTheEnd;
    private volatile boolean stop;
    private volatile Throwable failure;
    private volatile long cpuNanos;

    Attacker(InetSocketAddress server, String bindAddress, int target, double openRate, double trickleShare, long trickleMillis, long connectTimeoutMillis, long durationMillis)
    {
        this.server = server;
        this.bind = new InetSocketAddress(bindAddress, 0);
        this.target = target;
        this.openRate = openRate;
        this.trickleShare = trickleShare;
        this.trickleNanos = TimeUnit.MILLISECONDS.toNanos(trickleMillis);
        this.connectTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(connectTimeoutMillis);
        this.durationNanos = TimeUnit.MILLISECONDS.toNanos(durationMillis);
    }

    void stop()
    {
        stop = true;
    }

    @Override
    public void run()
    {
        try (Selector selector = Selector.open())
        {
            attack(selector);
        }
        catch (Throwable x)
        {
            failure = x;
        }
        finally
        {
            cpuNanos = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        }
    }

    private void attack(Selector selector) throws IOException
    {
        long start = System.nanoTime();
        long end = start + durationNanos;
        double tokens = 1;
        double burst = Math.max(1, openRate / 20);
        long last = start;
        long nextSample = start + TimeUnit.SECONDS.toNanos(1);
        long nextScan = start;
        int second = 0;
        while (!stop)
        {
            long now = System.nanoTime();
            if (now - end >= 0)
                break;
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * openRate);
            last = now;
            while (tokens >= 1 && connecting.size() + open.size() < target)
            {
                tokens--;
                open(selector, now);
            }
            if (now - nextScan >= 0)
            {
                nextScan = now + TimeUnit.MILLISECONDS.toNanos(20);
                scan(now);
            }
            if (now - nextSample >= 0)
            {
                samples.add(new Sample(++second, open.size(), connecting.size()));
                nextSample += TimeUnit.SECONDS.toNanos(1);
            }
            selector.select(5);
            now = System.nanoTime();
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext())
            {
                SelectionKey key = keys.next();
                keys.remove();
                Conn conn = (Conn)key.attachment();
                if (!key.isValid())
                    continue;
                if (key.isConnectable())
                    finishConnect(key, conn, now);
                else if (key.isReadable())
                    read(conn, now);
            }
        }
        // The last second's sample, taken as the attack ends.
        if (samples.size() < second + 1 && System.nanoTime() - nextSample >= -TimeUnit.MILLISECONDS.toNanos(50))
            samples.add(new Sample(++second, open.size(), connecting.size()));
        heldToTheEnd = open.size();
        for (Conn conn : new ArrayList<>(open))
            conn.channel.close();
        for (Conn conn : new ArrayList<>(connecting))
            conn.channel.close();
        open.clear();
        connecting.clear();
    }

    private void open(Selector selector, long now) throws IOException
    {
        // The share holds over the connections opened, so that it holds also when the server closes one kind faster.
        Kind kind = tricklersOpened + 1 <= trickleShare * (attempts + 1) ? Kind.TRICKLER : Kind.SILENT;
        if (kind == Kind.TRICKLER)
            tricklersOpened++;
        SocketChannel channel = SocketChannel.open();
        attempts++;
        Conn conn = new Conn(kind, channel, now);
        try
        {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.bind(bind);
            if (channel.connect(server))
                connected(selector, conn, now);
            else
            {
                connecting.add(conn);
                channel.register(selector, SelectionKey.OP_CONNECT, conn);
            }
        }
        catch (IOException x)
        {
            connectFailed(conn, x);
        }
    }

    private void finishConnect(SelectionKey key, Conn conn, long now)
    {
        try
        {
            if (!conn.channel.finishConnect())
                return;
            connecting.remove(conn);
            connected(key.selector(), conn, now);
        }
        catch (IOException x)
        {
            connecting.remove(conn);
            connectFailed(conn, x);
        }
    }

    private void connectFailed(Conn conn, IOException x)
    {
        connectFailures++;
        if (firstConnectFailure == null)
            firstConnectFailure = x.toString();
        release(conn);
    }

    private void connected(Selector selector, Conn conn, long now) throws IOException
    {
        connected++;
        conn.openNanos = now;
        conn.port = ((InetSocketAddress)conn.channel.getLocalAddress()).getPort();
        open.add(conn);
        if (conn.kind == Kind.TRICKLER)
        {
            if (!write(conn, "GET / HTTP/1.1\r\n", now))
                return;
            conn.nextWriteNanos = now + trickleNanos;
        }
        conn.channel.register(selector, SelectionKey.OP_READ, conn);
    }

    /** Gives up connects that take too long; sends the tricklers' next lines. */
    private void scan(long now)
    {
        for (Iterator<Conn> i = connecting.iterator(); i.hasNext(); )
        {
            Conn conn = i.next();
            if (now - conn.startNanos >= connectTimeoutNanos)
            {
                i.remove();
                connectTimeouts++;
                release(conn);
            }
        }
        for (Conn conn : new ArrayList<>(open))
        {
            if (conn.kind == Kind.TRICKLER && now - conn.nextWriteNanos >= 0)
            {
                conn.lines++;
                if (write(conn, "X-Trickle-" + conn.lines + ": x\r\n", now))
                    conn.nextWriteNanos += trickleNanos;
            }
        }
    }

    private boolean write(Conn conn, String text, long now)
    {
        try
        {
            // A few bytes into an empty socket buffer: never partial.
            conn.channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
            return true;
        }
        catch (IOException x)
        {
            closedByServer(conn, now, "write");
            return false;
        }
    }

    private void read(Conn conn, long now)
    {
        try
        {
            while (true)
            {
                sink.clear();
                int n = conn.channel.read(sink);
                if (n < 0)
                {
                    closedByServer(conn, now, "eof");
                    return;
                }
                if (n == 0)
                    return;
                conn.answered = true;
            }
        }
        catch (IOException x)
        {
            closedByServer(conn, now, "reset");
        }
    }

    private void closedByServer(Conn conn, long now, String how)
    {
        if (!open.remove(conn))
            return;
        closed.add(new Closed(conn.kind, conn.port, conn.openNanos, now, how, conn.answered));
        release(conn);
    }

    private void release(Conn conn)
    {
        try
        {
            conn.channel.close();
        }
        catch (IOException ignored)
        {
            // Closing.
        }
    }

    // Read once the thread has ended (Thread.join orders these reads after its writes).

    List<Closed> closed()
    {
        return closed;
    }

    List<Sample> samples()
    {
        return samples;
    }

    long attempts()
    {
        return attempts;
    }

    long connected()
    {
        return connected;
    }

    long connectTimeouts()
    {
        return connectTimeouts;
    }

    long connectFailures()
    {
        return connectFailures;
    }

    String firstConnectFailure()
    {
        return firstConnectFailure;
    }

    int heldToTheEnd()
    {
        return heldToTheEnd;
    }

    /** @return the CPU time of the attacker's thread */
    long cpuNanos()
    {
        return cpuNanos;
    }

    Throwable failure()
    {
        return failure;
    }
}
