package dev.connstate.jetty;

import java.util.ArrayList;
import java.util.List;

import dev.connstate.CloseReason;
import dev.connstate.ConnStateEvent;
import dev.connstate.Raw;
import dev.connstate.RawClient;
import dev.connstate.Recorder;
import dev.connstate.TrackedServer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

public class CloseReasonTest
{
    private static final String GET = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

    /** The reason {@code closed} gives, once the connection ended; no event before it has one. */
    private static CloseReason reasonOf(RawClient c)
    {
        c.awaitEnd();
        List<ConnStateEvent> events = c.events();
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
            try (RawClient client = s.connect())
            {
                client.send(GET);
                // The server closes after its idle timeout: EOF after the response.
                client.readToEnd();
                client.assertSequence("new", "active", "idle", "closed");
                assertEquals(CloseReason.IDLE_TIMEOUT, reasonOf(client));
            }
        }
    }

    @Test
    public void clientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            try (RawClient c = s.connect())
            {
                c.send(GET);
                c.in().readNBytes(1);
                c.close();
                c.assertSequence("new", "active", "idle", "closed");
                assertEquals(CloseReason.REMOTE_CLOSE, reasonOf(c));
            }
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
            try (RawClient c = s.connect())
            {
                c.send(GET);
                c.readToEnd();
                c.close();
                c.assertSequence("new", "active", "closed");
                assertEquals(CloseReason.LOCAL_CLOSE, reasonOf(c));
            }
        }
    }

    /** A malformed head, answered 400 by Jetty, which then closes: {@code error}. */
    private static void malformedHead(TrackedServer s, String label) throws Exception
    {
        try (RawClient c = s.connect())
        {
            c.send("GARBAGE\r\n\r\n");
            c.readToEnd();
            c.close();
            c.assertSequence("new", "active", "closed");
            assertEquals(CloseReason.ERROR, reasonOf(c), label);
        }
    }

    /** A head the client's close cuts short: {@code remote_close}. */
    private static void cutHead(TrackedServer s, String label) throws Exception
    {
        try (RawClient c = s.connect())
        {
            c.send("GET / HTTP/1.1\r\nHo");
            c.id();
            c.close();
            c.assertSequence("new", "active", "closed");
            assertEquals(CloseReason.REMOTE_CLOSE, reasonOf(c), label);
        }
    }

    @Test
    public void malformedRequestIsAnError() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            malformedHead(s, "a malformed head");
        }
    }

    @Test
    public void partialRequestThenClientClose() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            cutHead(s, "a cut head");
        }
    }

    /**
     * Jetty answers a head that the client's close cut short with its own 400 ("Early EOF") when
     * the FIN comes after the bytes, and silently when it comes with them: either way the client
     * closed first, and a malformed head stays an error. Repeated, so that both orders occur.
     */
    @Test
    public void aCutHeadIsTheClientsCloseWhetherOrNotJettyAnswersIt() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start())
        {
            for (int i = 0; i < 50; i++)
            {
                cutHead(s, "cut head " + i);
                malformedHead(s, "malformed head " + i);
            }
        }
    }

    @Test
    public void serverStop() throws Exception
    {
        TrackedServer s = new TrackedServer().start();
        try (RawClient c = s.connect())
        {
            c.id();
            s.server.stop();
            assertEquals(seq("new", "closed"), c.sequence());
            assertEquals(CloseReason.LOCAL_CLOSE, reasonOf(c));
            assertEquals(0, s.tracker.getTrackedConnections());
        }
    }

    /** A connector stopped while the server runs (Spring Boot's immediate shutdown, JMX) closes its connections itself. */
    @Test
    public void connectorStop() throws Exception
    {
        try (TrackedServer s = new TrackedServer().start(); RawClient c = s.connect())
        {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertEquals("hello", c.read().text());
            c.awaitSequence("new", "active", "idle");
            s.server.getConnectors()[0].stop();
            c.assertSequence("new", "active", "idle", "closed");
            assertEquals(CloseReason.LOCAL_CLOSE, reasonOf(c));
            assertTrue(s.server.isRunning(), "the server runs on");
        }
    }

    /**
     * Jetty reports the closes its connector's stop caused on the executor, without waiting for
     * them: the close may arrive after the connector stopped, and is the server's all the same.
     * Here the server's pool holds them until the connector has stopped.
     */
    @Test
    public void connectorStoppedBeforeItsClosesArrive() throws Exception
    {
        HeldCloses pool = new HeldCloses();
        Server server = new Server(pool);
        ServerConnector connector = new ServerConnector(server, 1, 1);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(new TrackedServer.Hello());
        Recorder recorder = new Recorder();
        ConnStateTracker tracker = new ConnStateTracker(server);
        tracker.addInlineListener(recorder);
        server.addBean(tracker);
        server.start();
        try (RawClient c = new RawClient(recorder, Raw.connect(connector.getLocalPort())))
        {
            c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            assertEquals("hello", c.read().text());
            c.awaitSequence("new", "active", "idle");
            pool.hold = true;
            connector.stop();
            assertTrue(connector.isStopped());
            assertEquals(1, pool.release(), "the close held until the connector stopped");
            c.assertSequence("new", "active", "idle", "closed");
            assertEquals(CloseReason.LOCAL_CLOSE, reasonOf(c));
            assertEquals(List.of(), recorder.violations());
        }
        finally
        {
            server.stop();
        }
    }

    /** Jetty's pool, but it holds the end points' destruction (their close events), once asked, until released. */
    private static final class HeldCloses extends QueuedThreadPool
    {
        private final List<Runnable> held = new ArrayList<>();
        private volatile boolean hold;

        @Override
        public void execute(Runnable task)
        {
            synchronized (held)
            {
                if (hold && task.getClass().getSimpleName().equals("DestroyEndPoint"))
                {
                    held.add(task);
                    return;
                }
            }
            super.execute(task);
        }

        /** Runs the held tasks, and every later one. */
        int release()
        {
            List<Runnable> released;
            synchronized (held)
            {
                hold = false;
                released = List.copyOf(held);
                held.clear();
            }
            released.forEach(super::execute);
            return released.size();
        }
    }
}
