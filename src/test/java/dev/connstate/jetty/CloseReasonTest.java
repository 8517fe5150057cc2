package dev.connstate.jetty;

import java.net.Socket;
import java.util.List;

import dev.connstate.CloseReason;
import dev.connstate.ConnStateEvent;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static dev.connstate.TrackedServer.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

public class CloseReasonTest
{
    private static CloseReason reasonOf(TrackedServer s, int clientPort)
    {
        s.recorder.awaitEnd(clientPort);
        List<ConnStateEvent> events = s.recorder.events(s.recorder.idOfClientPort(clientPort));
        events.subList(0, events.size() - 1).forEach(e -> assertNull(e.reason(), "only closed has a reason: " + e));
        return events.get(events.size() - 1).reason();
    }

    @Test
    public void idleTimeout() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            ServerConnector c = s.addConnector();
            c.setIdleTimeout(300);
            s.start();
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                // The server closes after its idle timeout: EOF after the response.
                socket.getInputStream().readAllBytes();
                assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(socket.getLocalPort()));
                assertEquals(CloseReason.IDLE_TIMEOUT, reasonOf(s, socket.getLocalPort()));
            }
        }
    }

    @Test
    public void clientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int port;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                port = socket.getLocalPort();
                socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                socket.getInputStream().readNBytes(1);
            }
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(port));
            assertEquals(CloseReason.REMOTE_CLOSE, reasonOf(s, port));
        }
    }

    @Test
    public void serverConnectionClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer())
        {
            s.handler(new TrackedServer.Hello()
            {
                @Override
                public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response, org.eclipse.jetty.util.Callback callback)
                {
                    response.getHeaders().put("Connection", "close");
                    return super.handle(request, response, callback);
                }
            }).start();
            int port;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                port = socket.getLocalPort();
                socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"));
                socket.getInputStream().readAllBytes();
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(port));
            assertEquals(CloseReason.LOCAL_CLOSE, reasonOf(s, port));
        }
    }

    @Test
    public void malformedRequestIsAnError() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int port;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                port = socket.getLocalPort();
                socket.getOutputStream().write(ascii("GARBAGE\r\n\r\n"));
                socket.getInputStream().readAllBytes();
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(port));
            assertEquals(CloseReason.ERROR, reasonOf(s, port));
        }
    }

    @Test
    public void partialRequestThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            int port;
            try (Socket socket = new Socket("127.0.0.1", s.port()))
            {
                port = socket.getLocalPort();
                socket.getOutputStream().write(ascii("GET / HTTP/1.1\r\nHo"));
                s.recorder.idOfClientPort(port);
            }
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(port));
            assertEquals(CloseReason.REMOTE_CLOSE, reasonOf(s, port));
        }
    }

    @Test
    public void serverStop() throws Exception
    {
        TrackedServer s = new TrackedServer().start();
        try (Socket socket = new Socket("127.0.0.1", s.port()))
        {
            long id = s.recorder.idOfClientPort(socket.getLocalPort());
            s.server.stop();
            assertEquals(seq("new", "closed"), s.recorder.sequence(id));
            assertEquals(CloseReason.LOCAL_CLOSE, reasonOf(s, socket.getLocalPort()));
            assertEquals(0, s.tracker.getTrackedConnections());
        }
    }
}
