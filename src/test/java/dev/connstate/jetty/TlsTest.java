package dev.connstate.jetty;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;

import dev.connstate.ConnState;
import dev.connstate.CloseReason;
import dev.connstate.ConnStateEvent;
import dev.connstate.RawClient;
import dev.connstate.Tls;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.io.ClientConnector;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS: the SslConnection and the HTTP connection inside it are one connection; a handshake that
 * fails reads no HTTP bytes.
 */
public class TlsTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    static TrackedServer tlsServer() throws Exception
    {
        TrackedServer s = new TrackedServer();
        s.addTlsConnector();
        return s.start();
    }

    @Test
    public void twoGetsThenClientClose() throws Exception
    {
        try (TrackedServer s = tlsServer())
        {
            try (RawClient c = s.connectTls())
            {
                for (int i = 0; i < 2; i++)
                {
                    c.send(GET);
                    assertEquals("hello", c.read().text());
                }
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                assertTrue(events.stream().allMatch(ConnStateEvent::secure), events.toString());
                assertEquals("http/1.1", events.get(1).protocol());
                assertEquals(1, s.recorder.connectionCount());
                // new comes at the accept, before the handshake; every later event has its details.
                assertNull(events.get(0).tls());
                for (ConnStateEvent event : events.subList(1, events.size()))
                {
                    assertTrue(event.tls().protocol().startsWith("TLSv1."), event.toString());
                    assertTrue(event.tls().cipherSuite().startsWith("TLS_"), event.toString());
                }
                assertEquals(CloseReason.REMOTE_CLOSE, c.reason());
            }
        }
    }

    @Test
    public void clientResetsDuringTheLastWrite() throws Exception
    {
        TrackedServer s = new TrackedServer().handler(new Http1Test.OneBigLastWrite());
        s.addTlsConnector();
        try (TrackedServer started = s.start())
        {
            Http1Test.resetDuringTheLastWrite(started.connectTls());
        }
    }

    @Test
    public void sniHostIsReported() throws Exception
    {
        try (TrackedServer s = tlsServer())
        {
            try (RawClient c = s.connectTls("app.example"))
            {
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "closed");
                assertEquals("app.example", c.events().get(1).tls().sniHost());
            }
        }
    }

    @Test
    public void twoGetsWithJettyClient() throws Exception
    {
        try (TrackedServer s = tlsServer())
        {
            ClientConnector connector = new ClientConnector();
            connector.setSslContextFactory(Tls.client());
            HttpClient client = new HttpClient(new org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP(connector));
            client.start();
            try
            {
                for (int i = 0; i < 2; i++)
                    assertEquals("hello", client.newRequest("https://127.0.0.1:" + s.port() + "/").timeout(10, TimeUnit.SECONDS).send().getContentAsString());
            }
            finally
            {
                client.stop();
            }
            Map<Long, List<ConnState>> all = s.recorder.awaitAllEnded(1);
            assertEquals(List.of(seq("new", "active", "idle", "active", "idle", "closed")), List.copyOf(all.values()));
        }
    }

    @Test
    public void partialRequestOverTlsThenClientClose() throws Exception
    {
        try (TrackedServer s = tlsServer())
        {
            Http1Test.partialHeadThenClientClose(s.connectTls());
        }
    }

    @Test
    public void plainTextToTlsPort() throws Exception
    {
        try (TrackedServer s = tlsServer())
        {
            try (RawClient c = s.connect())
            {
                c.send(GET);
                // Jetty fails the handshake and closes.
                c.readToEnd();
                c.close();
                c.assertSequence("new", "closed");
                ConnStateEvent closed = c.events().get(1);
                assertEquals(true, closed.secure());
                assertEquals(CloseReason.TLS_HANDSHAKE_FAILED, closed.reason());
                assertNull(closed.tls());
            }
        }
    }

    @Test
    public void clientTrustsNothing() throws Exception
    {
        try (TrackedServer s = tlsServer())
        {
            // The JDK's default trust store does not know the test certificate: the client aborts the handshake.
            SSLSocket socket = (SSLSocket)SSLContext.getDefault().getSocketFactory().createSocket("127.0.0.1", s.port());
            try (RawClient c = s.client(socket))
            {
                socket.setSoTimeout(10_000);
                assertThrows(SSLException.class, socket::startHandshake);
                c.close();
                c.assertSequence("new", "closed");
                assertEquals(CloseReason.TLS_HANDSHAKE_FAILED, c.reason());
            }
        }
    }

    @Test
    public void tlsHandshakeThenIdleTimeout() throws Exception
    {
        TrackedServer s = new TrackedServer();
        s.addTlsConnector().setIdleTimeout(400);
        try (TrackedServer started = s.start())
        {
            try (RawClient c = started.connectTls())
            {
                // A handshake is not a request.
                assertEquals(-1, c.in().read());
                c.assertSequence("new", "closed");
            }
        }
    }
}
