package dev.connstate.jetty;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.InetAddressSet;

/**
 * Decides who may read what the tracker serves over HTTP (the connection table, the Prometheus
 * text): loopback clients and the addresses or ranges of an allow list (single addresses, CIDR
 * {@code 10.0.0.0/8}, ranges {@code 10.0.0.1-10.0.0.9}); others get 403.
 *
 * <p>The client is the connection's peer (the PROXY protocol's client where that is on), never a
 * request header a client could forge. Immutable, safe on any thread.</p>
 */
public final class ReaderAccess
{
    private final InetAddressSet allowed;

    /**
     * @param allow addresses or ranges besides loopback, comma separated; {@code null} or blank for loopback only
     * @throws IllegalArgumentException naming the first entry that is not an IP address, CIDR or range
     */
    public ReaderAccess(String allow)
    {
        this.allowed = AddressList.parse(allow);
    }

    /**
     * Answers 403 to a client that may not read.
     *
     * @return whether {@code request}'s client may read; if not, the 403 is on its way and the
     * request is handled
     */
    public boolean admit(Request request, Response response, Callback callback)
    {
        if (isAllowed(peer(request)))
            return true;
        Response.writeError(request, response, callback, HttpStatus.FORBIDDEN_403);
        return false;
    }

    private static SocketAddress peer(Request request)
    {
        // The connection's end point: the socket's peer, or the PROXY protocol's client. Never
        // Request.getRemoteAddr(), which a forwarding customizer may take from a header.
        EndPoint endPoint = request.getConnectionMetaData().getConnection().getEndPoint();
        return endPoint.getRemoteSocketAddress();
    }

    /**
     * @return whether a client at {@code peer} may read
     */
    public boolean isAllowed(SocketAddress peer)
    {
        if (!(peer instanceof InetSocketAddress inet))
            return false;
        InetAddress address = inet.getAddress();
        return address != null && (address.isLoopbackAddress() || allowed.test(address));
    }
}
