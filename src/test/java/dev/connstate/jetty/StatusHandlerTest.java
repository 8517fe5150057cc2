package dev.connstate.jetty;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

import dev.connstate.TrackedServer;
import org.junit.jupiter.api.Test;

import static dev.connstate.TrackedServer.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class StatusHandlerTest
{
    private static String get(Socket socket, String path) throws Exception
    {
        socket.getOutputStream().write(ascii("GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        InputStream in = socket.getInputStream();
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n"))
            head.append((char)in.read());
        int length = Integer.parseInt(head.toString().replaceAll("(?s).*[Cc]ontent-[Ll]ength: (\\d+).*", "$1"));
        return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    @Test
    public void tableListsOpenConnectionsIncludingItsOwn() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            s.server.setHandler(new ConnStateStatusHandler(s.tracker, "/connstate", "") {{ setHandler(new TrackedServer.Hello()); }});
            s.start();
            try (Socket idle = new Socket("127.0.0.1", s.port()); Socket fresh = new Socket("127.0.0.1", s.port()); Socket asking = new Socket("127.0.0.1", s.port()))
            {
                get(idle, "/hello");
                s.recorder.idOfClientPort(fresh.getLocalPort());
                dev.connstate.Recorder.await("idle connection", () -> s.tracker.getIdleConnections() == 1);
                String response = get(asking, "/connstate");
                assertTrue(response.startsWith("HTTP/1.1 200"), response);
                String body = response.substring(response.indexOf("\r\n\r\n") + 4);
                assertTrue(body.contains("\"counts\":{\"new\":1,\"active\":1,\"idle\":1}"), body);
                long askingId = s.recorder.idOfClientPort(asking.getLocalPort());
                assertTrue(body.contains("{\"id\":" + askingId + ",\"remote\":\"127.0.0.1:" + asking.getLocalPort() + "\""), body);
                assertTrue(body.matches("(?s).*\"id\":" + askingId + ",[^}]*\"state\":\"active\"[^}]*\"requests\":1}.*"), body);
                assertEquals(3, body.split("\"id\":").length - 1, body);
            }
        }
    }

    @Test
    public void refusesOthersUnlessAllowed()
    {
        ConnStateStatusHandler loopbackOnly = new ConnStateStatusHandler(null, "/s", null);
        assertTrue(loopbackOnly.isAllowed(new InetSocketAddress("127.0.0.1", 1)));
        assertTrue(loopbackOnly.isAllowed(new InetSocketAddress("::1", 1)));
        assertFalse(loopbackOnly.isAllowed(new InetSocketAddress("10.1.2.3", 1)));
        ConnStateStatusHandler ranges = new ConnStateStatusHandler(null, "/s", "10.0.0.0/8, 192.168.1.5");
        assertTrue(ranges.isAllowed(new InetSocketAddress("10.1.2.3", 1)));
        assertTrue(ranges.isAllowed(new InetSocketAddress("192.168.1.5", 1)));
        assertFalse(ranges.isAllowed(new InetSocketAddress("192.168.1.6", 1)));
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "example.com"));
        // All hex letters would be a host name to look up: refused.
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "cafe"));
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "/s", "10.0.0.1-cafe"));
        ConnStateStatusHandler v6 = new ConnStateStatusHandler(null, "/s", "2001:db8::/32, 10.0.0.1-10.0.0.9");
        assertTrue(v6.isAllowed(new InetSocketAddress("2001:db8::7", 1)));
        assertTrue(v6.isAllowed(new InetSocketAddress("10.0.0.5", 1)));
        assertFalse(v6.isAllowed(new InetSocketAddress("2001:db9::7", 1)));
        assertThrows(IllegalArgumentException.class, () -> new ConnStateStatusHandler(null, "s", ""));
    }
}
