package dev.connstate.jetty;

import java.util.List;

import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@link ConnStateTracker#track(Connector)}: connectors that are not the server's when the
 * tracker starts, in the two shapes Spring Boot gives them.
 */
public class TrackConnectorTest
{
    /**
     * Spring Boot's {@code JettyWebServer} takes the connectors off the server, starts the server
     * (and so the tracker), then puts them back and starts each one.
     */
    @Test
    public void aConnectorPutBackAfterTheServerStarted() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            ServerConnector connector = s.addConnector();
            s.tracker.track(connector);
            s.server.setConnectors(null);
            s.server.start();
            assertEquals(List.of(), s.tracker.getTrackedConnectors().stream().filter(c -> c != connector).toList());
            s.server.setConnectors(new Connector[]{connector});
            connector.start();
            RawClient c = s.connect();
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n").expect(200);
            c.close();
            c.assertSequence("new", "active", "idle", "closed");
            assertEquals(List.of(connector), s.tracker.getTrackedConnectors());
        }
    }

    /** Spring Boot's management server: another server, started after the tracker's. */
    @Test
    public void aConnectorOfAnotherServer() throws Exception
    {
        Server other = TrackedServer.helloServer();
        ServerConnector connector = (ServerConnector)other.getConnectors()[0];
        try (TrackedServer s = new TrackedServer().start())
        {
            s.tracker.track(connector);
            // Twice is once.
            s.tracker.track(connector);
            other.start();
            try
            {
                RawClient c = s.client(Raw.connect(connector.getLocalPort()));
                c.send("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").expect(200);
                c.close();
                c.assertSequence("new", "active", "closed");
                assertEquals(connector.getLocalPort(), s.recorder.connections().get(c.id()).localPort);
                assertEquals(2, s.tracker.getTrackedConnectors().size());
            }
            finally
            {
                other.stop();
            }
        }
    }
}
