package dev.connstate.jetty;

import java.net.InetSocketAddress;
import java.util.List;

import dev.connstate.ConnStateEvent;
import dev.connstate.RawClient;
import dev.connstate.Tls;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.server.DetectorConnectionFactory;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ProxyConnectionFactory;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Layers that replace the connection on one socket before HTTP starts: the PROXY protocol and
 * port unification (a detector choosing TLS or plain HTTP). Each socket is one connection.
 */
public class ProxyAndDetectorTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
    private static final String PROXY_V1 = "PROXY TCP4 192.0.2.7 192.0.2.1 40123 443\r\n";

    private static TrackedServer proxyServer() throws Exception
    {
        return proxyServer(new TrackedServer());
    }

    private static TrackedServer proxyServer(TrackedServer s) throws Exception
    {
        HttpConnectionFactory http = new HttpConnectionFactory(s.httpConfig);
        s.addConnector(new ProxyConnectionFactory(http.getProtocol()), http);
        return s.start();
    }

    private static TrackedServer unifiedServer() throws Exception
    {
        TrackedServer s = new TrackedServer();
        HttpConnectionFactory http = new HttpConnectionFactory(s.httpConfig);
        SslConnectionFactory ssl = new SslConnectionFactory(Tls.server(), http.getProtocol());
        // Detects TLS; anything else goes to the next protocol, plain HTTP.
        s.addConnector(new DetectorConnectionFactory(ssl), http);
        return s.start();
    }

    @Test
    public void proxyProtocolV1() throws Exception
    {
        try (TrackedServer s = proxyServer())
        {
            try (RawClient c = s.connect())
            {
                c.send(PROXY_V1 + GET);
                assertEquals("hello", c.read().text());
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                // Accepted before the header was read: the socket's peer.
                assertEquals(c.port(), ((InetSocketAddress)events.get(0).remote()).getPort());
                for (ConnStateEvent e : events.subList(1, events.size()))
                    assertEquals(new InetSocketAddress("192.0.2.7", 40123), e.remote(), e.toString());
                assertEquals(1, s.recorder.connectionCount());
            }
        }
    }

    @Test
    public void proxiedClientResetsDuringTheLastWrite() throws Exception
    {
        try (TrackedServer s = proxyServer(new TrackedServer().handler(new Http1Test.OneBigLastWrite())))
        {
            RawClient c = s.connect();
            c.send(PROXY_V1);
            Http1Test.resetDuringTheLastWrite(c);
        }
    }

    @Test
    public void proxyHeaderOnlyThenClose() throws Exception
    {
        try (TrackedServer s = proxyServer())
        {
            try (RawClient c = s.connect())
            {
                c.send(PROXY_V1);
                // TCP delivers the bytes before the FIN: the server reads them before it sees the close.
                c.id();
                c.close();
                // The PROXY header is not a request.
                c.assertSequence("new", "closed");
            }
        }
    }

    @Test
    public void proxyHeaderAndPartialRequestThenClose() throws Exception
    {
        try (TrackedServer s = proxyServer())
        {
            try (RawClient c = s.connect())
            {
                c.send(PROXY_V1 + "GET / HT");
                // TCP delivers the bytes before the FIN: the server reads them before it sees the close.
                c.id();
                c.close();
                c.assertSequence("new", "active", "closed");
            }
        }
    }

    @Test
    public void portUnificationTls() throws Exception
    {
        try (TrackedServer s = unifiedServer())
        {
            try (RawClient c = s.connectTls())
            {
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                assertTrue(events.get(1).secure());
                assertEquals("http/1.1", events.get(1).protocol());
            }
        }
    }

    @Test
    public void portUnificationPlain() throws Exception
    {
        try (TrackedServer s = unifiedServer())
        {
            try (RawClient c = s.connect())
            {
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.send(GET);
                assertEquals("hello", c.read().text());
                c.close();
                c.assertSequence("new", "active", "idle", "active", "idle", "closed");
                List<ConnStateEvent> events = c.events();
                assertFalse(events.get(1).secure());
                assertEquals("http/1.1", events.get(1).protocol());
            }
        }
    }

    @Test
    public void portUnificationPlainPartialRequestThenClose() throws Exception
    {
        try (TrackedServer s = unifiedServer())
        {
            Http1Test.partialHeadThenClientClose(s.connect());
        }
    }

    @Test
    public void portUnificationNothingSent() throws Exception
    {
        try (TrackedServer s = unifiedServer())
        {
            try (RawClient c = s.connect())
            {
                c.id();
                c.close();
                c.assertSequence("new", "closed");
            }
        }
    }
}
