package dev.connstate.jetty;

import java.net.SocketAddress;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Serves one exact path to the readers {@link ReaderAccess} admits, and passes every other request
 * on to the handler it wraps: the base of what the tracker serves over HTTP (the connection table,
 * the Prometheus text).
 *
 * <p>{@link #serve} runs on the thread of a request for the path from an admitted client, once per
 * such request; a client that is not admitted has had its 403 before. Other requests pay one string
 * comparison.</p>
 */
public abstract class ReaderEndpoint extends Handler.Wrapper
{
    private final String path;
    private final ReaderAccess access;

    /**
     * @param path the exact path served, checked by the subclass
     * @param allow addresses or ranges besides loopback that may read, comma separated; may be empty
     * @throws IllegalArgumentException if an allow entry is not an IP address, CIDR or range
     */
    protected ReaderEndpoint(String path, String allow)
    {
        this.path = path;
        this.access = new ReaderAccess(allow);
    }

    /**
     * @return the path served
     */
    public String getPath()
    {
        return path;
    }

    @Override
    public final boolean handle(Request request, Response response, Callback callback) throws Exception
    {
        if (!path.equals(Request.getPathInContext(request)))
            return super.handle(request, response, callback);
        if (access.admit(request, response, callback))
            serve(request, response, callback);
        return true;
    }

    /**
     * Answers a request for the path from an admitted client, and completes {@code callback}.
     */
    protected abstract void serve(Request request, Response response, Callback callback) throws Exception;

    /**
     * @return whether a client at {@code peer} may read
     */
    boolean isAllowed(SocketAddress peer)
    {
        return access.isAllowed(peer);
    }
}
