package dev.connstate.jetty;

import java.util.List;

import dev.connstate.RawClient;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.util.component.ContainerLifeCycle;
import org.junit.jupiter.api.Test;

/**
 * A connection factory that wraps the HTTP one and holds it as a bean, as Dropwizard's metrics
 * ({@code InstrumentedConnectionFactory}) wrap every factory of Dropwizard's connectors: the
 * requests are seen all the same.
 */
public class WrappedConnectionFactoryTest
{
    /** Counts nothing, wraps as Dropwizard's does. */
    private static final class Wrapper extends ContainerLifeCycle implements ConnectionFactory
    {
        private final ConnectionFactory wrapped;

        private Wrapper(ConnectionFactory wrapped)
        {
            this.wrapped = wrapped;
            addBean(wrapped);
        }

        @Override
        public String getProtocol()
        {
            return wrapped.getProtocol();
        }

        @Override
        public List<String> getProtocols()
        {
            return wrapped.getProtocols();
        }

        @Override
        public Connection newConnection(Connector connector, EndPoint endPoint)
        {
            return wrapped.newConnection(connector, endPoint);
        }
    }

    @Test
    public void requestsThroughAWrappedHttpFactory() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            s.addConnector(new Wrapper(new HttpConnectionFactory(s.httpConfig)));
            s.start();
            RawClient c = s.connect();
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200);
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200);
            c.close();
            c.assertSequence("new", "active", "idle", "active", "idle", "closed");
        }
    }
}
