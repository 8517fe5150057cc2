package dev.connstate.jetty;

import java.util.EventListener;
import java.util.concurrent.TimeoutException;

import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;

/**
 * Stands in for Jetty's HTTP/1 connection on a socket the tracker closes, so that no request read
 * from then on is handled ({@link JettyInternals#takeSocket}): Jetty's connection still reads (its
 * read interest is pending) but drops what it parsed, since it is no longer the socket's
 * connection. This one closes the socket when its idle timeout (the linger) expires, and passes
 * the close on to Jetty's connection, whose listeners (the tracker's, Jetty's statistics) hear it.
 */
final class RefusingConnection implements Connection
{
    private final Connection http1;

    RefusingConnection(Connection http1)
    {
        this.http1 = http1;
    }

    @Override
    public void addEventListener(EventListener listener)
    {
        http1.addEventListener(listener);
    }

    @Override
    public void removeEventListener(EventListener listener)
    {
        http1.removeEventListener(listener);
    }

    @Override
    public void onOpen()
    {
    }

    @Override
    public void onClose(Throwable cause)
    {
        http1.onClose(cause);
    }

    @Override
    public EndPoint getEndPoint()
    {
        return http1.getEndPoint();
    }

    @Override
    public void close()
    {
        getEndPoint().close();
    }

    @Override
    public boolean onIdleExpired(TimeoutException timeoutException)
    {
        return true;
    }

    @Override
    public long getMessagesIn()
    {
        return http1.getMessagesIn();
    }

    @Override
    public long getMessagesOut()
    {
        return http1.getMessagesOut();
    }

    @Override
    public long getBytesIn()
    {
        return http1.getBytesIn();
    }

    @Override
    public long getBytesOut()
    {
        return http1.getBytesOut();
    }

    @Override
    public long getCreatedTimeStamp()
    {
        return http1.getCreatedTimeStamp();
    }

    @Override
    public String toString()
    {
        return "RefusingConnection[" + http1 + "]";
    }
}
