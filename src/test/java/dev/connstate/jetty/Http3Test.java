package dev.connstate.jetty;

import java.nio.channels.DatagramChannel;
import java.util.List;

import dev.connstate.RawClient;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.DatagramChannelEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.AbstractConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * HTTP/3 is not tracked, and never reported wrong: an HTTP/3 connector is not hooked, and what
 * Jetty's QUIC connector reports as connections (its UDP socket's, and one per QUIC stream) never
 * becomes one. Jetty's HTTP/3 jars are not served for the default Jetty here, so the connector is
 * one that says it speaks {@code h3}, and the UDP socket's connection is made as Jetty's QUIC
 * connector makes it, on a {@link DatagramChannelEndPoint}.
 */
public class Http3Test
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /** A connection factory that names {@code h3}, as Jetty's {@code HTTP3ServerConnectionFactory} does. */
    private static final class H3 extends AbstractConnectionFactory
    {
        H3()
        {
            super("h3");
        }

        @Override
        public Connection newConnection(Connector connector, EndPoint endPoint)
        {
            throw new UnsupportedOperationException("never connected to");
        }
    }

    @Test
    public void anHttp3ConnectorIsNeitherTrackedNorHooked() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            ServerConnector tcp = s.addConnector();
            ServerConnector h3 = s.addConnector(new H3());
            s.start();
            assertEquals(List.of(tcp), s.tracker.getTrackedConnectors());
            assertTrue(h3.getEventListeners().stream().noneMatch(l -> l instanceof JettyEvents), "HTTP/3 connector hooked: " + h3.getEventListeners());
            assertTrue(tcp.getEventListeners().stream().anyMatch(l -> l instanceof JettyEvents));
            // The TCP connector is tracked as ever.
            RawClient c = s.connect();
            c.send(GET).expect(200);
            c.close();
            c.assertSequence("new", "active", "idle", "closed");
        }
    }

    /** What Jetty's QUIC connector reports for its UDP socket never becomes a connection. */
    @Test
    public void aConnectionOnADatagramEndPointIsNotAConnection() throws Exception
    {
        try (TrackedServer s = new TrackedServer(); DatagramChannel udp = DatagramChannel.open())
        {
            ServerConnector tcp = s.addConnector();
            s.start();
            Connection.Listener events = tcp.getEventListeners().stream()
                .filter(l -> l instanceof JettyEvents).map(l -> (Connection.Listener)l).findFirst().orElseThrow();
            EndPoint datagram = new DatagramChannelEndPoint(udp, null, null, s.server.getScheduler());
            assertTrue(datagram.isOpen());
            assertTrue(JettyInternals.isQuic(datagram));
            Connection quic = new AbstractConnection(datagram, s.server.getThreadPool())
            {
                @Override
                public void onFillable()
                {
                }
            };
            events.onOpened(quic);
            assertEquals(0, s.tracker.getTrackedConnections());
            events.onClosed(quic);
            assertTrue(s.recorder.connections().isEmpty(), "reported: " + s.recorder.connections());
            // A TCP socket's end point is not QUIC's.
            RawClient c = s.connect();
            c.send(GET).expect(200);
            assertFalse(JettyInternals.isQuic(onlyEndPoint(s)));
            c.close();
            c.assertSequence("new", "active", "idle", "closed");
        }
    }

    private static EndPoint onlyEndPoint(TrackedServer s)
    {
        return s.tracker.getOpenConnections().stream().map(conn -> ((TrackedConnection)conn).root()).findFirst().orElseThrow();
    }
}
