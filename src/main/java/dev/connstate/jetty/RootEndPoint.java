package dev.connstate.jetty;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;

/**
 * Decides which Jetty object "is the connection": the root network {@link EndPoint}.
 *
 * <p>Jetty stacks layers on one TCP connection: TLS ({@code SslConnection.SslEndPoint}), the
 * PROXY protocol ({@code ProxyConnectionFactory.ProxyEndPoint}), detectors and upgrades each
 * bring their own {@link Connection}, and some their own {@link EndPoint} that wraps the one
 * below. Connections come and go as the protocol changes; the socket's end point stays. So the
 * identity of a connection is the end point at the bottom of the {@link EndPoint.Wrapper} chain,
 * never a {@link Connection}.</p>
 */
public final class RootEndPoint
{
    private RootEndPoint()
    {
    }

    /**
     * @param endPoint any end point of a connection's stack
     * @return the network end point at the bottom of it ({@code endPoint} itself if it wraps nothing)
     */
    public static EndPoint of(EndPoint endPoint)
    {
        // Asked twice per request: the plain socket's end point (a class, not a wrapper) is
        // recognized by an exact class check, cheaper than an interface check that fails.
        if (endPoint != null && endPoint.getClass() == SocketChannelEndPoint.class)
            return endPoint;
        EndPoint current = endPoint;
        // Bounded: a (broken) wrapper that returns itself or a cycle must not hang a Jetty thread.
        for (int depth = 0; depth < 16 && current instanceof EndPoint.Wrapper wrapper; depth++)
        {
            EndPoint inner = wrapper.unwrap();
            if (inner == null || inner == current)
                break;
            current = inner;
        }
        return current;
    }

    /**
     * @param connection a connection at any layer
     * @return the network end point it ultimately runs on, or {@code null} if it has none
     */
    public static EndPoint of(Connection connection)
    {
        EndPoint endPoint = connection.getEndPoint();
        return endPoint == null ? null : of(endPoint);
    }
}
