package dev.connstate.jetty;

import java.net.Socket;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import dev.connstate.Raw;
import dev.connstate.TrackedServer;
import dev.connstate.Wait;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.junit.jupiter.api.Test;

import static dev.connstate.Recorder.seq;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests whose end never comes, or comes after the connection closed: the sequence still
 * ends once, nothing follows it, and the tracker keeps nothing.
 *
 * <p>Jetty does not close a connection while its request is being handled: it does not read
 * (so a client's close goes unseen), and even once it has read the client's end of stream, or
 * its idle timeout expired, it keeps the socket until the handler completes its callback. So
 * does Go (the connection stays {@code active} until the handler returns). These tests end
 * such connections by stopping the connector, which closes its sockets.</p>
 */
public class LateEventsTest
{
    /** Keeps every request's callback without completing it; reads the body to its end or failure. */
    static class Holding extends Handler.Abstract
    {
        final BlockingQueue<Callback> callbacks = new LinkedBlockingQueue<>();
        final CountDownLatch bodyEnded = new CountDownLatch(1);

        @Override
        public boolean handle(Request request, Response response, Callback callback)
        {
            callbacks.add(callback);
            read(request);
            return true;
        }

        private void read(Request request)
        {
            while (true)
            {
                Content.Chunk chunk = request.read();
                if (chunk == null)
                {
                    request.demand(() -> read(request));
                    return;
                }
                chunk.release();
                if (chunk.isLast())
                {
                    bodyEnded.countDown();
                    return;
                }
            }
        }
    }

    private static ServerConnector connector(TrackedServer s)
    {
        return (ServerConnector)s.server.getConnectors()[0];
    }

    @Test
    public void handlerNeverCompletesAndClientCloses() throws Exception
    {
        Holding holding = new Holding();
        try (TrackedServer s = new TrackedServer().handler(holding).configure(t -> t.addConnector().setIdleTimeout(300)).start())
        {
            int clientPort;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\npartial");
                assertNotNull(holding.callbacks.poll(10, TimeUnit.SECONDS));
            }
            // The handler reads the client's end of stream (an early EOF failure): Jetty knows the client is gone...
            assertTrue(holding.bodyEnded.await(10, TimeUnit.SECONDS));
            long id = s.recorder.idOfClientPort(clientPort);
            // ...and still holds the socket, past its idle timeout, for the handler that never completes.
            assertEquals(seq("new", "active"), s.recorder.sequence(id));
            assertEquals(1, s.tracker.getTrackedConnections());

            // Whatever finally closes the socket ends the sequence, once.
            connector(s).stop();
            assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(clientPort));
            // Forgotten right after closed went out, under the connection's lock.
            Wait.until("the tracker to forget the connection", () -> s.tracker.getTrackedConnections() == 0);
            assertTrue(s.tracker.isRunning(), "reported by the bridge, not by the tracker's stop");
        }
    }

    @Test
    public void completionAfterTheClose() throws Exception
    {
        Holding holding = new Holding();
        try (TrackedServer s = new TrackedServer().handler(holding).start())
        {
            int[] clientPorts = new int[2];
            Callback[] callbacks = new Callback[2];
            for (int i = 0; i < 2; i++)
            {
                Socket socket = Raw.connect(s.port());
                clientPorts[i] = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                callbacks[i] = holding.callbacks.poll(10, TimeUnit.SECONDS);
                assertNotNull(callbacks[i]);
                Raw.reset(socket);
            }
            connector(s).stop();
            for (int port : clientPorts)
                assertEquals(seq("new", "active", "closed"), s.recorder.awaitEnd(port));
            Wait.until("the tracker to forget the connections", () -> s.tracker.getTrackedConnections() == 0);

            // The handlers complete late, from threads of their own: one succeeds, one fails.
            Thread succeed = new Thread(callbacks[0]::succeeded);
            Thread fail = new Thread(() -> callbacks[1].failed(new IllegalStateException("late failure (on purpose)")));
            succeed.start();
            fail.start();
            succeed.join(10_000);
            fail.join(10_000);
            assertTrue(!succeed.isAlive() && !fail.isAlive(), "late completions returned");

            // Nothing after closed (the recorder would list it as a violation), nothing tracked.
            for (int port : clientPorts)
                assertEquals(seq("new", "active", "closed"), s.recorder.sequence(s.recorder.idOfClientPort(port)));
            assertEquals(0, s.tracker.getTrackedConnections());
        }
    }

    @Test
    public void completionAfterTheClientLeftUnseen() throws Exception
    {
        Holding holding = new Holding();
        try (TrackedServer s = new TrackedServer().handler(holding).start())
        {
            int clientPort;
            Callback callback;
            try (Socket socket = Raw.connect(s.port()))
            {
                clientPort = socket.getLocalPort();
                Raw.write(socket, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
                callback = holding.callbacks.poll(10, TimeUnit.SECONDS);
                assertNotNull(callback);
            }
            // Jetty has not read the client's close (it does not read while a request is handled):
            // the response is written without error, the connection goes idle as Go's would,
            // and the close is reported when Jetty reads it.
            Thread complete = new Thread(callback::succeeded);
            complete.start();
            complete.join(10_000);
            assertEquals(seq("new", "active", "idle", "closed"), s.recorder.awaitEnd(clientPort));
        }
    }
}
