package dev.connstate.jetty;

import java.net.InetSocketAddress;
import java.net.SocketAddress;

import dev.connstate.ConnInfo;
import dev.connstate.ConnState;
import org.eclipse.jetty.io.ByteArrayEndPoint;

/**
 * A real {@link TrackedConnection} for in-process benchmarks ({@code SinkCost}): on an end point
 * without a socket, with the addresses of a client connection, moved through keep-alive
 * transitions as the tracker moves it (without the tracker's lock and listeners). Its
 * {@link ConnInfo#snapshot()} is the tracker's own, so a benchmark measures the real one.
 */
public final class BenchConnection
{
    private final TrackedConnection conn;

    /**
     * @param id the connection id
     * @param remote the client's address
     * @param local the server's address
     */
    public BenchConnection(long id, InetSocketAddress remote, InetSocketAddress local)
    {
        ByteArrayEndPoint endPoint = new ByteArrayEndPoint()
        {
            @Override
            public SocketAddress getRemoteSocketAddress()
            {
                return remote;
            }

            @Override
            public SocketAddress getLocalSocketAddress()
            {
                return local;
            }
        };
        conn = new TrackedConnection(id, endPoint, System.nanoTime());
        conn.protocol("http/1.1");
    }

    /**
     * @return the next keep-alive transition, made: {@code active} (a request begins) or {@code idle}
     */
    public ConnState next()
    {
        ConnState next = conn.state() == ConnState.ACTIVE ? ConnState.IDLE : ConnState.ACTIVE;
        if (next == ConnState.ACTIVE)
            conn.requestBegun();
        conn.moveTo(next, System.nanoTime());
        return next;
    }

    /**
     * @return the live connection, as an inline listener sees it
     */
    public ConnInfo info()
    {
        return conn;
    }
}
